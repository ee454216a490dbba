import { describe, expect, it } from 'vitest';
import { useEntraSync } from './entra-sync-setup.js';
import { useGraphSimulator } from './graph-test-setup.js';

/**
 * Removals Graph reports in an incremental (delta) pass pass the same safety check as absentees of a full pass:
 * the Entra mapping's removalThresholdPercent (default 10 %) of the records it had.
 */

const graph = useGraphSimulator();
const env = useEntraSync(graph, { users: 20 });

const emailOf = (i: number) => env.users[i]!.mail!;
const idOf = (i: number) => env.users[i]!.id;

describe('Entra removals in an incremental pass', () => {
  it('a first, full pass creates everyone and keeps a delta link', async () => {
    const out = await env.sync();
    expect(out).toMatchObject({ pass: 'full', held: false });
    expect(out.counts.created).toBe(20);
    expect(await env.resumeCursor()).toMatch(/\/v1\.0\/users\/delta\?\$deltatoken=/);
  });

  it('a few deletions (at most the threshold) are applied in the incremental pass with Graph’s reasons', async () => {
    await graph.control.deleteUser(env.directory.tenantId, idOf(0));
    await graph.control.hardDeleteUser(env.directory.tenantId, idOf(1));
    const out = await env.sync();
    expect(out).toMatchObject({ pass: 'incremental', held: false });
    expect(out.counts.removed).toBe(2); // 2 of 20 = 10 %, not over it
    const run = await env.run(out.runId);
    expect(run.status).toBe('succeeded');
    expect(run.removal).toMatchObject({ candidates: 2, held: false, thresholdPercent: 10 });

    const soft = await env.person(emailOf(0));
    expect(soft._sync).toMatchObject({ status: 'removed', sources: [] });
    expect(soft._people.removedReasons?.entra).toBe('deleted in Microsoft Entra (restorable for 30 days)');
    const hard = await env.person(emailOf(1));
    expect(hard._sync.status).toBe('removed');
    expect(hard._people.removedReasons?.entra).toBe('permanently deleted in Microsoft Entra');
    expect(await env.resumeCursor()).not.toBeNull();
  });

  const burst = [2, 3, 4, 5, 6];

  it('a burst over the threshold arriving as @removed is held: nothing removed, and the next pass is full', async () => {
    for (const i of burst) await graph.control.deleteUser(env.directory.tenantId, idOf(i));
    const out = await env.sync();
    expect(out).toMatchObject({ pass: 'incremental', held: true });
    expect(out.counts).toMatchObject({ seen: burst.length, removed: 0 });
    const run = await env.run(out.runId);
    expect(run.status).toBe('held');
    expect(run.removal).toMatchObject({ candidates: burst.length, held: true, thresholdPercent: 10 });
    expect(run.removal!.message).toMatch(/5 of 18 records would be removed .*safety threshold/);
    for (const i of burst) {
      const p = await env.person(emailOf(i));
      expect(p._sync).toMatchObject({ status: 'active', sources: ['entra'] });
      expect(p._people.sources.entra).toMatchObject({ sourceId: idOf(i), active: true });
      expect(p._people.sources.entra!.removedAt ?? null).toBeNull();
    }
    // Changes after this delta link would never report these removals again.
    expect(await env.resumeCursor()).toBeNull();
  });

  it('the next pass is full and holds again', async () => {
    const out = await env.sync();
    expect(out).toMatchObject({ pass: 'full', held: true });
    expect(out.counts.removed).toBe(0);
    expect((await env.run(out.runId)).removal).toMatchObject({ candidates: burst.length, held: true });
    for (const i of burst) expect((await env.person(emailOf(i)))._sync.status).toBe('active');
    expect(await env.resumeCursor()).toBeNull();
  });

  it('an admin’s confirmation applies them; the pass after is incremental again', async () => {
    const confirmed = await env.sync({ message: { confirmRemovals: true } });
    expect(confirmed).toMatchObject({ pass: 'full', held: false });
    expect(confirmed.counts.removed).toBe(burst.length);
    expect((await env.run(confirmed.runId)).status).toBe('succeeded');
    for (const i of burst) {
      const p = await env.person(emailOf(i));
      expect(p._sync).toMatchObject({ status: 'removed', sources: [] });
      // Judged on the full listing the confirmation ran: absent from it.
      expect(p._people.removedReasons?.entra).toBe('not returned by Microsoft Entra in a full sync');
    }
    expect(await env.resumeCursor()).not.toBeNull();

    const after = await env.sync();
    expect(after).toMatchObject({ pass: 'incremental', held: false });
    expect(after.counts).toMatchObject({ seen: 0, removed: 0 });
  });
});
