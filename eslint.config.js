import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'screenshots/**', '.local/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  { files: ['console/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
  {
    // The store layer: one module per kind of document under functions/src/store owns its schema, reads and
    // writes. Everything else in functions/src goes through it, so the document layout has one home.
    files: ['functions/src/**/*.ts'],
    ignores: ['functions/src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@google-cloud/firestore(/|$)',
              message:
                'Firestore is reached through functions/src/store (store/firestore.ts for the Db type).',
            },
            {
              regex: '(^|/)shared/firestore-paths',
              message: 'Document paths belong to functions/src/store; use or add a store function there.',
            },
          ],
        },
      ],
    },
  },
);
