import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * Only functions/src/store may reach Firestore or the document paths (eslint.config.js). Linted as text at
 * made-up paths, so the check does not depend on which files happen to exist.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function restrictedImportErrors(code: string, filePath: string) {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports');
}

const firestoreImport = [
  "import { Firestore } from '@google-cloud/firestore';",
  'export const open = () => new Firestore();',
  '',
].join('\n');

const pathsImport = [
  "import { paths } from '../../../shared/firestore-paths.js';",
  "export const tenant = paths.tenant('t');",
  '',
].join('\n');

describe('the store boundary', () => {
  it('refuses Firestore outside functions/src/store', async () => {
    const errors = await restrictedImportErrors(firestoreImport, 'functions/src/api/x.ts');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.severity).toBe(2);
    expect(errors[0]?.message).toContain('functions/src/store');
  });

  it('refuses the document paths outside functions/src/store', async () => {
    const errors = await restrictedImportErrors(pathsImport, 'functions/src/api/x.ts');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain('functions/src/store');
  });

  it('allows both inside functions/src/store', async () => {
    expect(await restrictedImportErrors(firestoreImport, 'functions/src/store/x.ts')).toEqual([]);
    expect(await restrictedImportErrors(pathsImport, 'functions/src/store/x.ts')).toEqual([]);
  });
});
