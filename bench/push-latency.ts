import { performance } from 'node:perf_hooks';
import { Firestore } from '@google-cloud/firestore';
import type { SimulatorControl } from '../emulators/workspace-simulator/index.js';
import { createApp, type App } from '../functions/src/app.js';
import { runSync } from '../functions/src/engine/engine.js';
import { recordIdFor } from '../functions/src/engine/record-id.js';
import { loadConfig } from '../functions/src/platform/config.js';
import { createLogger } from '../functions/src/platform/log.js';
import { reconcilePushChannels } from '../functions/src/push/channels.js';
import { startInProcessPushReceiver } from '../functions/src/push/in-process.js';
import { pushDepsOf } from '../functions/src/push/push-deps.js';
import type { SecretStore } from '../functions/src/secrets/secret-store.js';
import { paths } from '../shared/firestore-paths.js';
import { mappingInputSchema } from '../shared/mapping.js';
import { authorizeAgainstSimulator } from '../test/support/google-oauth.js';

export interface PushLatency {
  changes: number;
  p50Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
  /** Notifications the receiver refused or could not handle: should be 0. */
  refused: number;
}

const MAPPING = mappingInputSchema.parse({
  name: 'Staff',
  entity: 'users',
  identifier: 'primaryEmail',
  target: { kind: 'collection', objectId: 'staff' },
  fieldMap: [
    { source: 'primaryEmail', target: 'email' },
    { source: 'name.familyName', target: 'lastName' },
  ],
});

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/**
 * Push latency end to end: a user changed through the simulator's control API -> the simulator's notification
 * (Google's headers and body) -> the receiver (the same function as POST /api/push/google) -> an incremental
 * engine pass -> the record in Firestore. The receiver and engine run in this process in place of Pub/Sub
 * (functions/src/push/in-process.ts), so Pub/Sub's own delivery delay (typically well under a second) is not
 * in the figure. Changes are made one after another, each timed until its record shows it.
 */
export async function measurePushLatency(opts: {
  control: SimulatorControl;
  simulatorUrl: string;
  secretManagerHost: string;
  secrets: SecretStore;
  users: number;
  changes: number;
}): Promise<PushLatency> {
  let app: App | null = null;
  const rx = await startInProcessPushReceiver({
    deps: () => ({ push: pushDepsOf(app!), engine: app!.syncDeps() }),
  });
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: 'demo-bench-push',
    WORKSPACE_ENDPOINT: opts.simulatorUrl,
    SECRET_MANAGER_EMULATOR_HOST: opts.secretManagerHost,
    PUSH_RECEIVER_URL: rx.url,
  });
  const db = new Firestore({ projectId: config.projectId });
  app = createApp({ config, db, secrets: opts.secrets, log: createLogger() });
  const tenantId = 'bench-push';
  try {
    const ws = await opts.control.createWorkspace({
      domain: 'push.example',
      seed: 7,
      users: opts.users,
      chromeos: 0,
      mobile: 0,
    });
    const { refreshToken } = await authorizeAgainstSimulator(config, ws.adminEmail);
    await opts.secrets.putRefreshToken(tenantId, refreshToken);
    await db.doc(paths.tenant(tenantId)).set({ name: tenantId, status: 'active' });
    await db.doc(paths.mapping(tenantId, 'staff')).set({ ...MAPPING, version: 1 });
    const first = await runSync(app.syncDeps(), {
      kind: 'sync',
      tenantId,
      mappingId: 'staff',
      requestId: 'bench-push-first',
      trigger: 'schedule',
    });
    if (first.status !== 'completed') throw new Error(`push bench first sync: ${JSON.stringify(first)}`);
    await reconcilePushChannels(pushDepsOf(app), tenantId);
    await rx.idle();

    const records = await db.collection(paths.records(tenantId, 'staff')).limit(opts.changes).get();
    const emails = records.docs.map((d) => String(d.get('email'))).filter((e) => e !== ws.adminEmail);
    const seconds: number[] = [];
    for (const [i, email] of emails.entries()) {
      const familyName = `Pushed${i}`;
      const ref = db.doc(paths.record(tenantId, 'staff', recordIdFor('primaryEmail', email)));
      const start = performance.now();
      await opts.control.updateUser(ws.customerId, email, { name: { familyName } });
      // Bounded: a change that never arrives ends the measurement with an error rather than a hang.
      for (;;) {
        if ((await ref.get()).get('lastName') === familyName) break;
        if (performance.now() - start > 120_000) throw new Error(`push bench: ${email} never arrived`);
        await new Promise((r) => setTimeout(r, 20));
      }
      seconds.push((performance.now() - start) / 1000);
    }
    await rx.idle();
    const sorted = [...seconds].sort((a, b) => a - b);
    return {
      changes: sorted.length,
      p50Seconds: quantile(sorted, 0.5),
      p99Seconds: quantile(sorted, 0.99),
      maxSeconds: sorted.at(-1) ?? 0,
      refused: rx.received.filter((r) => r.status !== 200).length,
    };
  } finally {
    await rx.close();
    await db.terminate();
  }
}
