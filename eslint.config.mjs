// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code is replayed: it must not reach the clock, the network, the disk or the
// process. The bundle test catches transitive imports; this rule names the mistake at its line.
const nodeBuiltins = builtinModules.flatMap((name) => [name, `${name}/*`, `node:${name}`, `node:${name}/*`]);

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.unwind/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.filter((n) => !n.includes('*')).map((name) => ({
            name,
            message: 'Workflow code is deterministic: Node built-ins belong in src/activities.',
          })),
          patterns: [
            {
              group: ['**/activities/*', '**/activities', '**/rack/*', '**/rack', '**/temporal/*', '**/testing/*', '**/cli/*'],
              message: 'src/workflows imports only @temporalio/workflow, zod, src/schemas and itself (use `import type` for activity types).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
