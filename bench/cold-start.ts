import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * `npx tsx bench/cold-start.ts [--no-build] [--runs N] [--json] [entry ...]`: what a cold instance pays before
 * its first request. For each function entry of the build (dist/functions/src/entries/*.js, plus the
 * all-in-one index.js for comparison) it starts N fresh node processes (default 5) that only import the
 * entry, and reports the median import time and the resident set size after the import.
 *
 * Fresh processes, because a second import in the same process is served from the module cache. The numbers
 * are machine-dependent: compare before/after on the same machine, not against another machine's figures.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = `${ROOT}dist/functions/src`;

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 5;
const named = args.filter((a, i) => !a.startsWith('--') && (runsArg < 0 || i !== runsArg + 1));

if (!flag('--no-build')) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });

function entries(): Array<{ name: string; file: string }> {
  if (named.length > 0) {
    return named.map((n) => ({
      name: n,
      file: n.endsWith('.js') ? n : `${DIST}/entries/${n}.js`,
    }));
  }
  const dir = `${DIST}/entries`;
  const perFunction = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.js') && f !== 'entry-points.js')
        .map((f) => ({ name: f.replace(/\.js$/, ''), file: `${dir}/${f}` }))
    : [];
  return [...perFunction, { name: 'index (all functions)', file: `${DIST}/index.js` }];
}

// Runs in the child: the clock starts after node itself is up, so only our import graph is measured.
const CHILD = `
const t0 = performance.now();
const c0 = process.cpuUsage();
await import(process.env.COLD_START_ENTRY);
const ms = performance.now() - t0;
const c = process.cpuUsage(c0);
process.stdout.write(JSON.stringify({ ms, cpuMs: (c.user + c.system) / 1000, rss: process.memoryUsage().rss }));
process.exit(0);
`;

interface Sample {
  ms: number;
  /** CPU time of the import: less sensitive than wall time to other processes competing for the cores. */
  cpuMs: number;
  rss: number;
}

function measureOnce(file: string): Sample {
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    encoding: 'utf8',
    // No metadata-server probing: importing must not depend on where it runs.
    env: {
      PATH: process.env.PATH ?? '',
      METADATA_SERVER_DETECTION: 'none',
      COLD_START_ENTRY: pathToFileURL(file).href,
    },
  });
  if (res.status !== 0) throw new Error(`importing ${file} failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Sample;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const MiB = 1024 * 1024;

const results = entries().map(({ name, file }) => {
  const samples = Array.from({ length: RUNS }, () => measureOnce(file));
  return {
    entry: name,
    medianImportMs: Math.round(median(samples.map((s) => s.ms))),
    medianCpuMs: Math.round(median(samples.map((s) => s.cpuMs))),
    medianRssMiB: Math.round(median(samples.map((s) => s.rss)) / MiB),
    runs: RUNS,
  };
});

if (flag('--json')) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  console.log(`cold start: median of ${RUNS} fresh processes per entry (node ${process.version})`);
  // Wall time swings with whatever else runs on the machine; the load average says how much to trust it.
  console.log(
    `  load average ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const r of results) {
    console.log(
      `  ${r.entry.padEnd(24)} import ${String(r.medianImportMs).padStart(5)} ms (cpu ${String(r.medianCpuMs).padStart(5)} ms)   rss ${String(r.medianRssMiB).padStart(4)} MiB`,
    );
  }
  const slowest = results.reduce((a, b) => (b.medianImportMs > a.medianImportMs ? b : a));
  console.log(`  slowest: ${slowest.entry} (${slowest.medianImportMs} ms, ${slowest.medianRssMiB} MiB)`);
}
