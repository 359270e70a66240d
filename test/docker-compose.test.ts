// Docker cannot run on the machines that build unwind, so the cluster definition is checked
// statically: every service a user needs is there, wired to the others, with the env it reads.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { searchAttributeFlags } from '../src/schemas/search-attributes';

const root = join(__dirname, '..');

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
const services = compose.services;
const service = (name: string): ComposeService => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};

describe('docker-compose.yml', () => {
  it('runs Temporal on PostgreSQL', () => {
    expect(service('postgresql').image).toMatch(/^postgres:/);
    const temporal = service('temporal');
    expect(temporal.environment?.DB).toMatch(/^postgres/);
    expect(temporal.environment?.POSTGRES_SEEDS).toBe('postgresql');
    expect(temporal.ports).toContain('7233:7233');
    expect(temporal.depends_on?.postgresql?.condition).toBe('service_healthy');
  });

  it('serves the Temporal UI against the server', () => {
    const ui = service('temporal-ui');
    expect(ui.image).toMatch(/^temporalio\/ui:/);
    expect(ui.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(ui.ports).toContain('8080:8080');
  });

  it('registers exactly the search attributes the saga engine upserts', () => {
    const command = [service('register-search-attributes').command].flat().join(' ');
    const flags = searchAttributeFlags();
    for (let i = 0; i < flags.length; i += 2) {
      const [name, type] = flags[i + 1]!.split('=');
      expect(command).toContain(`--name ${name} --type ${type}`);
    }
  });

  it('builds the worker from the Dockerfile and gives it the env it reads', () => {
    const worker = service('worker');
    expect(worker.build).toBe('.');
    expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default' });
    expect(worker.environment?.UNWIND_RACK_URL).toBe('http://rack:7280');
    expect(worker.depends_on?.['register-search-attributes']?.condition).toBe('service_completed_successfully');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const cmd = /CMD \[(.*)\]/.exec(dockerfile)?.[1] ?? '';
    const entry = /"(src\/[^"]+)"/.exec(cmd)?.[1];
    expect(entry).toBe('src/worker.ts');
    expect(existsSync(join(root, entry!))).toBe(true);
  });

  it('runs the rack simulator with a persistent volume', () => {
    const rack = service('rack');
    const entry = [rack.command].flat().find((part) => part?.startsWith('src/'));
    expect(entry && existsSync(join(root, entry))).toBe(true);
    expect(rack.environment?.UNWIND_RACK_DB).toMatch(/^\/data\//);
    expect(rack.ports).toContain('7280:7280');
  });
});
