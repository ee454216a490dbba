import { describe, expect, it } from 'vitest';
import { useEntraSync } from './entra-sync-setup.js';
import { useGraphSimulator } from './graph-test-setup.js';

/**
 * A user changed several times between two Entra passes may be listed several times in one delta round, in the
 * order the changes happened (the Graph simulator's 'everyChange' mode; Graph documents that an entity changed
 * several times can appear more than once). The engine applies a round's changes in that order, within a page
 * and across pages, so the last change wins without waiting for a full pass.
 */

const graph = useGraphSimulator();
const env = useEntraSync(graph, { users: 12, directory: { deltaChanges: 'everyChange' } });

const emailOf = (i: number) => env.users[i]!.mail!;
const idOf = (i: number) => env.users[i]!.id;

async function expectActive(i: number) {
  const p = await env.person(emailOf(i));
  expect(p._sync).toMatchObject({ status: 'active', sources: ['entra'], removedAt: null });
  expect(p._people.status).toBe('active');
  expect(p._people.sources.entra).toMatchObject({ sourceId: idOf(i), active: true });
  expect(p._people.sources.entra!.removedAt ?? null).toBeNull();
}

async function expectRemoved(i: number) {
  const p = await env.person(emailOf(i));
  expect(p._sync).toMatchObject({ status: 'removed', sources: [], removedAt: expect.any(String) });
  expect(p._people.status).toBe('removed');
  expect(p._people.sources.entra!.removedAt).toEqual(expect.any(String));
  expect(p._people.removedReasons?.entra).toBe('deleted in Microsoft Entra (restorable for 30 days)');
}

describe('Entra changes are applied in the order Graph lists them', () => {
  it('a first, full pass creates everyone', async () => {
    const out = await env.sync();
    expect(out).toMatchObject({ pass: 'full', held: false });
    expect(out.counts.created).toBe(12);
  });

  it('deleted, then restored before the next pass: Graph lists @removed then the user, and the person stays active', async () => {
    await graph.control.deleteUser(env.directory.tenantId, idOf(0));
    await graph.control.restoreUser(env.directory.tenantId, idOf(0));
    const out = await env.sync();
    expect(out.pass).toBe('incremental');
    expect(out.counts).toMatchObject({ seen: 2, removed: 0, created: 0 });
    await expectActive(0);
  });

  it('the same across two pages (the removal on one, the restore on the next)', async () => {
    await graph.control.deleteUser(env.directory.tenantId, idOf(1));
    await graph.control.restoreUser(env.directory.tenantId, idOf(1));
    const out = await env.sync({ pageSize: 1 });
    expect(out).toMatchObject({ pass: 'incremental' });
    expect(out.counts).toMatchObject({ seen: 2, removed: 0 });
    const run = await env.run(out.runId);
    expect(run.pages).toBe(2);
    await expectActive(1);
  });

  it('restored, then deleted again before the next pass: the person ends removed', async () => {
    // One at a time: two of twelve would be over the mapping's 10 % removal threshold.
    for (const i of [2, 3]) {
      await graph.control.deleteUser(env.directory.tenantId, idOf(i));
      expect((await env.sync()).counts.removed).toBe(1);
      await expectRemoved(i);
    }

    await graph.control.restoreUser(env.directory.tenantId, idOf(2));
    await graph.control.deleteUser(env.directory.tenantId, idOf(2));
    const out = await env.sync();
    expect(out.pass).toBe('incremental');
    expect(out.counts.seen).toBe(2);
    await expectRemoved(2);
  });

  it('the same across two pages: the restore written on the first page is removed by the second', async () => {
    await graph.control.restoreUser(env.directory.tenantId, idOf(3));
    await graph.control.deleteUser(env.directory.tenantId, idOf(3));
    const out = await env.sync({ pageSize: 1 });
    expect(out).toMatchObject({ pass: 'incremental', held: false });
    expect((await env.run(out.runId)).pages).toBe(2);
    expect(out.counts).toMatchObject({ seen: 2, removed: 1 });
    await expectRemoved(3);
  });

  it('a later full pass finds nothing to correct', async () => {
    await graph.control.expireDeltaTokens(env.directory.tenantId);
    const out = await env.sync();
    expect(out.pass).toBe('full');
    expect(out.counts).toMatchObject({ created: 0, updated: 0, removed: 0, unchanged: 10 });
    for (const i of [0, 1]) await expectActive(i);
    for (const i of [2, 3]) await expectRemoved(i);
  });
});
