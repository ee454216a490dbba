import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { hostSignatureHeaders } from '../functions/src/api/host-hmac.js';
import { DEMO } from './demo-tenant.js';
import { LOCAL_HMAC_KEY, startLocalStack } from './local-stack.js';

/**
 * Fires N concurrent `POST /api/tenants/:t/sync` calls (host-product signed, as a webhook would) and prints the
 * status counts, the latency percentiles and how many distinct run-id sets the 202s named.
 *
 *   npx tsx scripts/refresh-burst.ts                     starts a local stack (free ports, demo tenant) first
 *   npx tsx scripts/refresh-burst.ts --url http://127.0.0.1:8201 [--tenant demo] [--calls 300]
 *                                                        against a stack that is running (`npm start`)
 *
 * With its own stack, the calls are fired from a child process: a webhook's caller is not in the API's process,
 * and 300 fetches sharing the server's event loop (and, on a 2-core machine, its core) would measure the client
 * as much as the server. The server's own figures (handler time, event-loop delay) are printed separately. The
 * syncs the 202s start still run in the stack's process (in production they run in other instances), so the
 * figures are, if anything, pessimistic.
 */

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const calls = Number(arg('calls') ?? 300);
const tenantId = arg('tenant') ?? DEMO.tenantId;
const path = `/api/tenants/${tenantId}/sync`;

export interface Answer {
  status: number;
  ms: number;
  /** Time to the response's head (status line and headers). */
  ttfbMs: number;
  runs: string | null;
  retryAfter: string | null;
  contentType: string;
  text: string;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function one(apiUrl: string): Promise<Answer> {
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
  const text = await res.text();
  const ms = performance.now() - started;
  const body = parseJson(text) as { runs?: Array<{ mappingId: string; runId: string }> } | null;
  const runs = body?.runs
    ? JSON.stringify(body.runs.map((r) => [r.mappingId, r.runId]).sort((a, b) => a[0]!.localeCompare(b[0]!)))
    : null;
  return {
    status: res.status,
    ms,
    ttfbMs,
    runs,
    retryAfter: res.headers.get('retry-after'),
    contentType: res.headers.get('content-type') ?? '',
    text,
  };
}

const pctOf = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

function report(results: Answer[]): void {
  const byStatus = new Map<number, number>();
  for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const ttfb = results.map((r) => r.ttfbMs).sort((a, b) => a - b);
  const runSets = new Set(results.flatMap((r) => (r.runs ? [r.runs] : [])));
  const retryAfters = new Set(results.flatMap((r) => (r.retryAfter ? [r.retryAfter] : [])));
  console.log(`${calls} concurrent POST ${path}`);
  console.log(`  status counts: ${[...byStatus].map(([s, n]) => `${s}: ${n}`).join(', ')}`);
  console.log(
    `  client latency p50 ${pctOf(ms, 50).toFixed(0)} ms, p99 ${pctOf(ms, 99).toFixed(0)} ms, max ${ms.at(-1)!.toFixed(0)} ms` +
      ` (to the response head: p50 ${pctOf(ttfb, 50).toFixed(0)} ms, p99 ${pctOf(ttfb, 99).toFixed(0)} ms)`,
  );
  console.log(`  distinct run-id sets named by the 202s: ${runSets.size}`);
  if (retryAfters.size > 0) console.log(`  Retry-After values (s): ${[...retryAfters].join(', ')}`);
}

const url = arg('url');
if (url) {
  const results = await Promise.all(Array.from({ length: calls }, () => one(url)));
  if (process.send) process.send(results);
  else report(results);
} else {
  console.log('starting a local stack with the demo tenant…');
  const stack = await startLocalStack({ ports: 'auto', demo: true });
  // The API's log lines carry each call's server-side time (handler start to response); the stack's other INFO
  // lines are dropped so the figures stay readable.
  const serverMs: number[] = [];
  const writeStdout = process.stdout.write.bind(process.stdout);
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
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  try {
    const client = fork(
      fileURLToPath(import.meta.url),
      ['--url', stack.apiUrl, '--tenant', tenantId, '--calls', String(calls)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    loopDelay.enable();
    const results = await new Promise<Answer[]>((resolve, reject) => {
      client.once('message', (m) => resolve(m as Answer[]));
      client.once('exit', (code) => reject(new Error(`the client process exited (${code}) without results`)));
    });
    loopDelay.disable();
    report(results);
    serverMs.sort((a, b) => a - b);
    if (serverMs.length > 0) {
      console.log(
        `  server handler time: p50 ${pctOf(serverMs, 50)} ms, p99 ${pctOf(serverMs, 99)} ms, max ${serverMs.at(-1)} ms`,
      );
    }
    const ms = (ns: number) => (ns / 1e6).toFixed(0);
    console.log(
      `  server event-loop delay during the burst: p50 ${ms(loopDelay.percentile(50))} ms, p99 ${ms(loopDelay.percentile(99))} ms, max ${ms(loopDelay.max)} ms`,
    );
  } finally {
    await stack.stop();
  }
}
