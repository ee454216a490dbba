import { emulatorEnv } from '../support/emulator-clients.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubSub } from '@google-cloud/pubsub';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { tickPublisher } from '../../functions/src/platform/sync-publisher.js';
import { paths } from '../../shared/firestore-paths.js';

/**
 * The main job end to end, as `npm start` runs it: the host product creates a tenant, the admin signs in at
 * (simulated) Google, maps, connects; Pub/Sub push subscriptions on the emulator deliver the syncs to the
 * functions-framework servers; a scheduler tick later fans out again.
 */
describe('local stack (npm start)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({
      ports: 'auto',
      emulators: emulatorEnv(),
      demo: true,
      demoSize: { users: 150, chromeos: 60, mobile: 20 },
      autoApprove: false, // as scripts/start.ts: people see the consent page
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('connects and syncs the demo tenant through Pub/Sub push into Firestore', async () => {
    const demo = stack.demo!;
    expect(demo.runs).toHaveLength(4);
    for (const r of demo.runs) expect(r.status, r.mappingId).toBe('succeeded');
    const people = await stack.app.db.collection(paths.records('demo', 'people')).count().get();
    expect(people.data().count).toBeGreaterThan(100);
    const tenant = (await stack.app.db.doc(paths.tenant('demo')).get()).data()!;
    expect(tenant.status).toBe('active');
    // The refresh token went to Secret Manager, not Firestore.
    expect(await stack.app.secrets.getRefreshToken('demo')).toBeTruthy();
    expect(JSON.stringify(tenant)).not.toMatch(/refresh_token|1\/\//);
  });

  it('shows a person signing in to the console the simulated Google consent page, not an automatic approval', async () => {
    const login = await fetch(`${stack.consoleUrl}/api/auth/login?returnTo=%2F`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const google = new URL(login.headers.get('location')!);
    expect(google.origin).toBe(new URL(stack.simulatorUrl).origin);
    const page = await fetch(google, { redirect: 'manual' });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(stack.demo!.adminEmail);
    expect(html).toMatch(/<button[^>]*value="?approve/);
  });

  it('a scheduler tick fans out to every mapping and each sync finds nothing changed', async () => {
    const pubsub = new PubSub({ projectId: stack.projectId });
    const before = (await stack.app.db.collection(paths.runs('demo')).get()).size;
    await tickPublisher(() => pubsub)({ kind: 'tick', job: 'ws-sync-tick' });
    const deadline = Date.now() + 60_000;
    let finished: FirebaseFirestoreRun[] = [];
    while (Date.now() < deadline) {
      const snap = await stack.app.db.collection(paths.runs('demo')).orderBy('startedAt', 'desc').get();
      finished = snap.docs
        .map((d) => d.data() as FirebaseFirestoreRun)
        .filter((r) => r.trigger === 'schedule' && r.status !== 'running');
      if (snap.size >= before + 4 && finished.length >= 4) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await pubsub.close();
    expect(finished).toHaveLength(4);
    for (const r of finished) {
      expect(r.status).toBe('succeeded');
      expect(r.counts.created + r.counts.updated + r.counts.removed).toBe(0);
    }
  }, 90_000);
});

interface FirebaseFirestoreRun {
  status: string;
  trigger: string;
  counts: { created: number; updated: number; removed: number };
}
