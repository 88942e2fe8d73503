// ESLint 9 (flat config) with typescript-eslint: its recommended rules on every TypeScript
// file, three type-aware rules for promises (the runtime is asynchronous: a promise nobody
// awaits or catches loses its error), and the project's determinism rule made mechanical.
// Formatting is Prettier's job (`npm run format`, `npm run format:check`), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Code that runs inside actors or protocol cores: clock, randomness and ids come from the actor context. */
const DETERMINISTIC = [
  'src/protocols/**/*.ts',
  'src/balance/**/*.ts',
  'src/liveness/**/*.ts',
  'src/replication/**/*.ts',
  'src/cluster/balancer.ts',
  'src/cluster/behaviors.ts',
  'src/cluster/commit-adapters.ts',
  'src/cluster/coordinator.ts',
  'src/cluster/heartbeat.ts',
  'src/cluster/participant.ts',
  'src/cluster/region.ts',
  'src/cluster/replicas.ts',
  'src/cluster/server.ts',
];
const USE_CTX = 'Deterministic code: use the actor context (ctx.now(), ctx.random(), ctx.nextId(), ctx timers).';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `let x; const f = () => x?.y; x = new X(f)`: a callback that reads the binding before
      // it is assigned needs `let` (cluster.ts), so such a binding is not reported.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // A leading underscore marks a parameter or binding kept on purpose (as tsc's
      // noUnusedParameters does); `const { a, ...rest } = o` may drop `a`.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: DETERMINISTIC,
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: USE_CTX },
        { object: 'Math', property: 'random', message: USE_CTX },
        { object: 'performance', property: 'now', message: USE_CTX },
        { object: 'crypto', property: 'randomUUID', message: USE_CTX },
        { object: 'crypto', property: 'getRandomValues', message: USE_CTX },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: USE_CTX },
        { name: 'setInterval', message: USE_CTX },
        { name: 'setImmediate', message: USE_CTX },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: USE_CTX }],
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:crypto', 'crypto', 'node:timers', 'timers', 'node:timers/promises', 'timers/promises', 'nanoid'].map((name) => ({
            name,
            message: USE_CTX,
          })),
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
);
