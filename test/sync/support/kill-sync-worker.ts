import { spawn } from 'node:child_process';
import type { SyncHarness } from '../../support/sync-harness.js';

/**
 * Runs a sync of `msg` in a process of its own (./sync-worker.ts, configured like a deployed function) with slow
 * Directory pages, and SIGKILLs it once it has committed `pages` pages. Resolves when the process is gone, with
 * the last page it reported; the latency fault is cleared again.
 */
export async function killSyncWorkerMidRun(
  h: SyncHarness,
  msg: Record<string, unknown>,
  opts: { leaseMs: number; pages: number },
): Promise<number> {
  // Slow pages, so the process is surely still working when it is killed.
  await h.ws.control.setFaults({ faults: [{ kind: 'latency', latencyMs: 150, pathContains: '/users' }] });
  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/sync/support/sync-worker.ts', JSON.stringify(msg)],
    {
      env: { ...process.env, ...h.env, SYNC_LEASE_MS: String(opts.leaseMs) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  try {
    const killedAfter = await new Promise<number>((resolve, reject) => {
      let out = '';
      worker.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const pages = [...out.matchAll(/page (\d+)/g)].map((m) => Number(m[1]));
        if (pages.length > 0 && Math.max(...pages) >= opts.pages) {
          worker.kill('SIGKILL');
          resolve(Math.max(...pages));
        }
      });
      worker.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`worker exited on its own (${code}): ${out}`));
      });
    });
    // Gone for good before the caller reads what it left behind.
    await exited;
    return killedAfter;
  } finally {
    await h.ws.clearFaults();
  }
}
