import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { workflowsPath } from '../src/temporal/worker-config';

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe('the determinism fence around src/workflows', () => {
  it('bundles every unwind workflow with the Temporal workflow bundler', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: silent });
    expect(code.length).toBeGreaterThan(1000);
  });

  it('refuses to bundle a workflow that imports a Node built-in through a helper', async () => {
    const impure = join(__dirname, 'fixtures', 'impure-workflows', 'index.ts');
    const errors: string[] = [];
    const logger = { ...silent, error: (message: string) => void errors.push(message) };
    await expect(bundleWorkflowCode({ workflowsPath: impure, logger })).rejects.toThrow(/Webpack finished with errors/);
    expect(errors.join('\n')).toMatch(/node:fs|'fs'|"fs"/);
  });

  it('lints a Node built-in import under src/workflows as an error naming the rule', async () => {
    const eslint = new ESLint({ cwd: join(__dirname, '..') });
    const [result] = await eslint.lintText("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", {
      filePath: join(__dirname, '..', 'src', 'workflows', 'example.ts'),
    });
    const messages = result?.messages.map((m) => `${m.ruleId}: ${m.message}`) ?? [];
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/^no-restricted-imports: .*deterministic/)]));
  });

  it('allows the same import outside src/workflows', async () => {
    const eslint = new ESLint({ cwd: join(__dirname, '..') });
    const [result] = await eslint.lintText("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", {
      filePath: join(__dirname, '..', 'src', 'activities', 'example.ts'),
    });
    expect(result?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });
});
