import { monitorEventLoopDelay } from 'node:perf_hooks';
import { hostSignatureHeaders } from '../functions/src/api/host-hmac.js';
import { DEMO } from './demo-tenant.js';
import { LOCAL_HMAC_KEY, startLocalStack, type LocalStack } from './local-stack.js';

/**
 * Fires N concurrent `POST /api/tenants/:t/sync` calls (host-product signed, as a webhook would) and prints the
 * status counts, the latency percentiles and how many distinct run-id sets the 202s named.
 *
 *   npx tsx scripts/refresh-burst.ts                     starts a local stack (free ports, demo tenant) first
 *   npx tsx scripts/refresh-burst.ts --url http://127.0.0.1:8201 [--tenant demo] [--calls 300]
 *                                                        against a stack that is running (`npm start`)
 */

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const calls = Number(arg('calls') ?? 300);
const tenantId = arg('tenant') ?? DEMO.tenantId;
let stack: LocalStack | null = null;
let apiUrl = arg('url');
if (!apiUrl) {
  console.log('starting a local stack with the demo tenant…');
  stack = await startLocalStack({ ports: 'auto', demo: true });
  apiUrl = stack.apiUrl;
}

const path = `/api/tenants/${tenantId}/sync`;
async function one(): Promise<{
  status: number;
  ms: number;
  /** Time to the response's head (status line and headers). */
  ttfbMs: number;
  runs: string | null;
  retryAfter: string | null;
}> {
  const rawBody = '{}';
  const started = performance.now();
  const res = await fetch(`${apiUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...hostSignatureHeaders(LOCAL_HMAC_KEY, { method: 'POST', path, rawBody }),
    },
    body: rawBody,
  });
  const ttfbMs = performance.now() - started;
  const body = (await res.json().catch(() => null)) as {
    runs?: Array<{ mappingId: string; runId: string }>;
  } | null;
  const ms = performance.now() - started;
  const runs = body?.runs
    ? JSON.stringify(body.runs.map((r) => [r.mappingId, r.runId]).sort((a, b) => a[0]!.localeCompare(b[0]!)))
    : null;
  return { status: res.status, ms, ttfbMs, runs, retryAfter: res.headers.get('retry-after') };
}

// In-process stack: the API's own log lines carry the server-side time of each call (handler start to response),
// which separates the server's work from time spent queued (event loop, connections) before the handler ran.
const serverMs: number[] = [];
const writeStdout = process.stdout.write.bind(process.stdout);
if (stack) {
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const line = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    if (line.includes('"api request"') && line.includes(path)) {
      const ms = /"ms":(\d+)/.exec(line)?.[1];
      if (ms) serverMs.push(Number(ms));
      return true;
    }
    if (line.startsWith('{"severity":"INFO"')) return true;
    return (writeStdout as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
}
const loopDelay = monitorEventLoopDelay({ resolution: 10 });

try {
  loopDelay.enable();
  const results = await Promise.all(Array.from({ length: calls }, () => one()));
  loopDelay.disable();
  const byStatus = new Map<number, number>();
  for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const pctOf = (xs: number[], p: number) =>
    xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
  const pct = (p: number) => pctOf(ms, p);
  const ttfb = results.map((r) => r.ttfbMs).sort((a, b) => a - b);
  serverMs.sort((a, b) => a - b);
  const runSets = new Set(results.flatMap((r) => (r.runs ? [r.runs] : [])));
  const retryAfters = new Set(results.flatMap((r) => (r.retryAfter ? [r.retryAfter] : [])));
  console.log(`${calls} concurrent POST ${path}`);
  console.log(`  status counts: ${[...byStatus].map(([s, n]) => `${s}: ${n}`).join(', ')}`);
  console.log(
    `  latency p50 ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms, max ${ms.at(-1)!.toFixed(0)} ms`,
  );
  console.log(
    `  client time to response head p50 ${pctOf(ttfb, 50).toFixed(0)} ms, p99 ${pctOf(ttfb, 99).toFixed(0)} ms`,
  );
  if (serverMs.length > 0) {
    console.log(
      `  server (handler) time, in-process stack: p50 ${pctOf(serverMs, 50)} ms, p99 ${pctOf(serverMs, 99)} ms, max ${serverMs.at(-1)} ms (${serverMs.length} calls)`,
    );
  }
  console.log(
    `  event-loop delay of this process during the burst: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`,
  );
  console.log(`  distinct run-id sets named by the 202s: ${runSets.size}`);
  if (retryAfters.size > 0) console.log(`  Retry-After values (s): ${[...retryAfters].join(', ')}`);
} finally {
  await stack?.stop();
}
