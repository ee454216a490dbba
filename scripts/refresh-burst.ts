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
  const body = (await res.json().catch(() => null)) as {
    runs?: Array<{ mappingId: string; runId: string }>;
  } | null;
  const ms = performance.now() - started;
  const runs = body?.runs
    ? JSON.stringify(body.runs.map((r) => [r.mappingId, r.runId]).sort((a, b) => a[0]!.localeCompare(b[0]!)))
    : null;
  return { status: res.status, ms, runs, retryAfter: res.headers.get('retry-after') };
}

try {
  const results = await Promise.all(Array.from({ length: calls }, () => one()));
  const byStatus = new Map<number, number>();
  for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const pct = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)]!;
  const runSets = new Set(results.flatMap((r) => (r.runs ? [r.runs] : [])));
  const retryAfters = new Set(results.flatMap((r) => (r.retryAfter ? [r.retryAfter] : [])));
  console.log(`${calls} concurrent POST ${path}`);
  console.log(`  status counts: ${[...byStatus].map(([s, n]) => `${s}: ${n}`).join(', ')}`);
  console.log(
    `  latency p50 ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms, max ${ms.at(-1)!.toFixed(0)} ms`,
  );
  console.log(`  distinct run-id sets named by the 202s: ${runSets.size}`);
  if (retryAfters.size > 0) console.log(`  Retry-After values (s): ${[...retryAfters].join(', ')}`);
} finally {
  await stack?.stop();
}
