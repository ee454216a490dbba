import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FUNCTION_NAMES } from '../infra/desired-state.js';

/** One deployed function and the built module its cold start imports. */
export interface FunctionEntry {
  name: string;
  /** Path of the module, relative to the repository root. */
  module: string;
}

export interface ColdStart {
  name: string;
  module: string;
  /** Median over the fresh processes. */
  importMs: number;
  rssMiB: number;
  runs: number;
}

/**
 * The deployed functions, read from where infra declares them: infra/deploy.sh deploys the functions named in
 * its PUSH_FUNCTIONS and HTTP_FUNCTIONS arrays. If that file stops declaring them that way, the push targets of
 * infra/desired-state.ts plus the HTTP `api` stand in, so the bench keeps running.
 */
export function deployedFunctionNames(root: string): string[] {
  const script = readFileSync(join(root, 'infra/deploy.sh'), 'utf8');
  const names = [...script.matchAll(/^(?:PUSH|HTTP)_FUNCTIONS=\(([^)]*)\)/gm)].flatMap((m) =>
    m[1]!.trim().split(/\s+/).filter(Boolean),
  );
  return names.length > 0 ? [...new Set(names)] : [...Object.values(FUNCTION_NAMES), 'api'];
}

/**
 * The module each function's cold start loads. Cloud Functions loads package.json `main` for every function and
 * sets FUNCTION_TARGET to its name; a build that splits entries per function (dist/functions/src/entries/<name>.js
 * or dist/functions/src/functions/<name>.js) is preferred when present, so the bench follows that split.
 */
export function functionEntries(root: string): FunctionEntry[] {
  const main = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: string }).main;
  const fallback = main ?? 'dist/functions/src/index.js';
  return deployedFunctionNames(root).map((name) => {
    const own = [`dist/functions/src/entries/${name}.js`, `dist/functions/src/functions/${name}.js`].find(
      (p) => existsSync(join(root, p)),
    );
    return { name, module: own ?? fallback };
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Import time and RSS after import of one entry, each in a fresh `node` (no tsx, no warm module cache), the
 * median of `runs`. FUNCTION_TARGET is set as Cloud Functions sets it, so an entry that loads only its own
 * function's modules is measured as deployed.
 */
export function measureColdStart(root: string, entry: FunctionEntry, runs = 5): ColdStart {
  const url = pathToFileURL(join(root, entry.module)).href;
  const script =
    `const t = performance.now(); await import(${JSON.stringify(url)}); ` +
    `console.log(JSON.stringify({ ms: performance.now() - t, rss: process.memoryUsage().rss }));`;
  const samples: Array<{ ms: number; rss: number }> = [];
  for (let i = 0; i < runs; i++) {
    const env: NodeJS.ProcessEnv = { ...process.env, FUNCTION_TARGET: entry.name, K_SERVICE: entry.name };
    // The bench's emulator addresses must not leak into a cold start: a deployed function has none.
    for (const k of Object.keys(env)) if (k.endsWith('_EMULATOR_HOST')) delete env[k];
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (out.status !== 0)
      throw new Error(`cold start of ${entry.name} (${entry.module}) failed: ${out.stderr}`);
    const last = out.stdout.trim().split('\n').pop() ?? '';
    samples.push(JSON.parse(last) as { ms: number; rss: number });
  }
  return {
    name: entry.name,
    module: entry.module,
    importMs: Math.round(median(samples.map((s) => s.ms))),
    rssMiB: Math.round(median(samples.map((s) => s.rss)) / 2 ** 20),
    runs,
  };
}

/** `npm run build`, so cold starts are measured against what deploys (dist), not the TypeScript sources. */
export function buildDist(root: string): void {
  const out = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
  if (out.status !== 0) throw new Error(`npm run build failed:\n${out.stdout}\n${out.stderr}`);
}
