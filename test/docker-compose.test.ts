// Docker cannot run on the machines that build unwind, so the cluster definition and the image
// are checked statically: every service a user needs is there, wired to the others, on the
// pinned Temporal version; and the image's commands run compiled JavaScript whose every import
// is a production dependency (the image installs no others).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TEMPORAL_SERVER_VERSION } from '../src/cluster';
import { searchAttributeFlags } from '../src/schemas/search-attributes';

const root = join(__dirname, '..');

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  configs?: { source: string; target: string }[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  configs?: Record<string, { content?: string }>;
};
const services = compose.services;
const service = (name: string): ComposeService => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};
const commandOf = (s: ComposeService) => [s.command].flat().join(' ');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const serverVersion = TEMPORAL_SERVER_VERSION.replace(/^v/, '');

describe('docker-compose.yml', () => {
  it('runs the pinned Temporal server on PostgreSQL, its schema set up by admin-tools before it starts', () => {
    expect(service('postgresql').image).toMatch(/^postgres:/);
    const temporal = service('temporal');
    expect(temporal.image).toBe(`temporalio/server:${serverVersion}`);
    expect(temporal.environment?.DB).toBe('postgres12');
    expect(temporal.environment?.POSTGRES_SEEDS).toBe('postgresql');
    expect(temporal.ports).toContain('7233:7233');
    expect(temporal.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');

    const schema = service('temporal-schema');
    expect(schema.image).toBe(`temporalio/admin-tools:${serverVersion}`);
    expect(schema.depends_on?.postgresql?.condition).toBe('service_healthy');
    const script = commandOf(schema);
    for (const db of ['temporal', 'temporal_visibility']) {
      expect(script).toContain(`temporal-sql-tool --db ${db} create-database`);
      expect(script).toContain(`temporal-sql-tool --db ${db} setup-schema -v 0.0`);
    }
    expect(script).toContain('update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned');
    expect(script).toContain('update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned');
    expect(Object.values(services).map((s) => s.image)).not.toContainEqual(expect.stringMatching(/auto-setup/));
  });

  it('gives the server its own dynamic config', () => {
    const temporal = service('temporal');
    const mounted = temporal.configs?.find((c) => c.target === temporal.environment?.DYNAMIC_CONFIG_FILE_PATH);
    expect(mounted).toBeDefined();
    const content = compose.configs?.[mounted!.source]?.content ?? '';
    expect(parse(content)).toHaveProperty('system.forceSearchAttributesCacheRefreshOnRead');
  });

  it('registers the namespace and exactly the search attributes the saga engine upserts, in a one-shot service', () => {
    const setup = service('temporal-namespace');
    expect(setup.image).toBe(`temporalio/admin-tools:${serverVersion}`);
    expect(setup.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    const command = commandOf(setup);
    expect(command).toContain('temporal operator namespace create --namespace default');
    const flags = searchAttributeFlags();
    for (let i = 0; i < flags.length; i += 2) {
      const [name, type] = flags[i + 1]!.split('=');
      expect(command).toContain(`--name ${name} --type ${type}`);
    }
  });

  it('serves the Temporal UI against the server', () => {
    const ui = service('temporal-ui');
    expect(ui.image).toMatch(/^temporalio\/ui:/);
    expect(ui.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(ui.ports).toContain('8080:8080');
  });

  it('builds the worker from the Dockerfile and gives it the env it reads and the encryption key file', () => {
    const worker = service('worker');
    expect(worker.build).toBe('.');
    expect(worker.command).toBeUndefined();
    expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default' });
    expect(worker.environment?.UNWIND_RACK_URL).toBe('http://rack:7280');
    expect(worker.depends_on?.['temporal-namespace']?.condition).toBe('service_completed_successfully');
    expect(worker.depends_on?.['encryption-keys']?.condition).toBe('service_completed_successfully');
    const keyFile = worker.environment?.UNWIND_ENCRYPTION_KEY_FILE ?? '';
    const keyVolume = worker.volumes?.find((v) => keyFile.startsWith(`${v.split(':')[1]}/`));
    expect(keyVolume, `a volume mounted where ${keyFile} is`).toBeDefined();
    expect(service('encryption-keys').volumes).toContain(keyVolume!.split(':').slice(0, 2).join(':'));
    expect(commandOf(service('encryption-keys'))).toContain(`'${keyFile}'`);
  });

  it('runs the rack simulator with a persistent volume', () => {
    const rack = service('rack');
    expect(rack.environment?.UNWIND_RACK_DB).toMatch(/^\/data\//);
    expect(rack.volumes).toContain('rack-data:/data');
    expect(rack.ports).toContain('7280:7280');
  });
});

/** The file a command runs: the first `dist/…` argument or required path. */
function entryOf(command: string): string | undefined {
  return /(?:^|[\s'"[])\.?\/?(dist\/[^\s'",\]]+\.js)/.exec(command)?.[1];
}

/** Every package the module graph from `entry` loads (relative imports followed, builtins left out). */
function packagesImported(entry: string): { packages: Map<string, string>; files: number } {
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.endsWith('.js')) continue;
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/\b(?:require|import)\("([^"]+)"\)/g)) {
      if (specifier!.startsWith('.')) queue.push(require.resolve(join(dirname(file), specifier!)));
      else if (!builtins.has(specifier!) && !builtins.has(specifier!.split('/')[0]!)) {
        const name = specifier!.startsWith('@') ? specifier!.split('/').slice(0, 2).join('/') : specifier!.split('/')[0]!;
        if (!packages.has(name)) packages.set(name, file);
      }
    }
  }
  return { packages, files: seen.size };
}

describe('the Docker image', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  let outDir: string;

  beforeAll(() => {
    // What the image's build stage does, into a temp folder: tsc -p tsconfig.build.json.
    outDir = mkdtempSync(join(tmpdir(), 'unwind-image-'));
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(outDir, 'dist')], {
      cwd: root,
      encoding: 'utf8',
    });
    if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  });

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('installs production dependencies only, and runs no TypeScript loader', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/tsc -p tsconfig\.build\.json/);
    const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(lastStage).not.toMatch(/--from=build \/app\/node_modules/);
    for (const text of [dockerfile, ...Object.values(services).map(commandOf)]) expect(text).not.toMatch(/\btsx\b/);
  });

  it('runs entries that tsconfig.build.json emits, whose every import is a production dependency', () => {
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    expect(cmd[0]).toBe('node');
    const commands = [cmd.join(' '), commandOf(service('rack')), commandOf(service('encryption-keys'))];
    for (const command of commands) {
      const entry = entryOf(command);
      expect(entry, `the compiled file "${command}" runs`).toBeDefined();
      const file = join(outDir, entry!);
      expect(existsSync(file), `${entry} is emitted by tsc -p tsconfig.build.json`).toBe(true);
      const { packages, files } = packagesImported(file);
      expect(files).toBeGreaterThan(0);
      for (const [name, importer] of packages) {
        expect(pkg.dependencies[name], `${name} (imported by ${importer.slice(outDir.length + 1)}) is a production dependency`).toBeDefined();
      }
    }
  });

  it('bundles the workflows from the compiled tree: the path the worker gives the bundler resolves there', () => {
    const load = createRequire(__filename);
    const { workflowsPath } = load(join(outDir, 'dist', 'src', 'temporal', 'worker-config.js')) as { workflowsPath: string };
    const relative = workflowsPath.slice(outDir.length + 1);
    expect(relative).toBe('dist/src/workflows/index.js');
    expect(existsSync(workflowsPath), `${relative} exists in the image`).toBe(true);
    const { packages } = packagesImported(join(outDir, 'dist', 'src', 'workflows', 'index.js'));
    expect([...packages.keys()].sort()).toEqual(expect.arrayContaining(['@temporalio/workflow']));
    for (const name of packages.keys()) expect(pkg.dependencies[name], `${name} is a production dependency`).toBeDefined();
  });
});
