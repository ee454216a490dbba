import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { admin_directory_v1 } from 'googleapis';
import { recordIdFor } from '../../functions/src/engine/record-id.js';
import type { RequestBudget } from '../../functions/src/store/request-budget.js';
import { recordsOf, runDoc, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';

const GROUPS = {
  name: 'Groups',
  entity: 'groups',
  identifier: 'email',
  target: { kind: 'collection', objectId: 'groups' },
  fieldMap: [
    { source: 'email', target: 'email' },
    { source: 'name', target: 'name' },
    { source: 'description', target: 'description' },
    { source: 'directMembersCount', target: 'memberCount' },
    { source: 'members', target: 'members' },
  ],
  // One deleted group of a dozen is over the default 10 %.
  removalThresholdPercent: 50,
};

const PAGE_SIZE = 5;
const GROUP_COUNT = 12;

/** What the record's `members` should be, from the simulator read independently of the sync code. */
function expectedMembers(members: admin_directory_v1.Schema$Member[]) {
  return (
    members
      .map((m) => ({
        email: m.email ? m.email.toLowerCase() : null,
        role: m.role ?? null,
        type: m.type ?? null,
        status: m.status ?? null,
      }))
      // By email in code-unit order (the sync's order; a locale's collation would ignore `.` and `-`).
      .sort((a, b) => ((a.email ?? '') < (b.email ?? '') ? -1 : (a.email ?? '') > (b.email ?? '') ? 1 : 0))
  );
}

/** Counts what the sync asks of the tenant's budget (the real one is tested in request-budget.test.ts). */
function countingBudget() {
  const counter = { acquired: 0 };
  const budget: RequestBudget = {
    acquire: async () => {
      counter.acquired++;
    },
  };
  return { counter, requestBudgetFor: () => budget };
}

describe('Google Groups sync (groups.list + members.list) against the simulator and Firestore', () => {
  let h: SyncHarness;
  const rec = (email: string) => recordIdFor('email', email);

  beforeAll(async () => {
    // 1,000 users give the seeded "All Staff" group (admin + up to 250 staff) more than one members.list page.
    h = await startSyncHarness({
      users: 1000,
      chromeos: 0,
      mobile: 0,
      groups: GROUP_COUNT,
      env: { SYNC_PAGE_SIZE: String(PAGE_SIZE) },
    });
    await h.addMapping('groups', GROUPS);
  });
  afterAll(() => h.close());

  it('first sync: one record per group with its members and their roles, paged, every request budgeted', async () => {
    const groups = await h.ws.listGroups();
    expect(groups).toHaveLength(GROUP_COUNT);
    const membersOf = new Map<string, admin_directory_v1.Schema$Member[]>();
    for (const g of groups) membersOf.set(g.id, await h.ws.listMembers(g.id));
    const largest = Math.max(...[...membersOf.values()].map((m) => m.length));
    // The point of the seed: one group needs members.list paging (Google serves at most 200 a page).
    expect(largest).toBeGreaterThan(200);

    await h.ws.control.resetStats();
    const { counter, requestBudgetFor } = countingBudget();
    const out = await h.sync('groups', {}, { requestBudgetFor });
    if (out.status !== 'completed') throw new Error(JSON.stringify(out));
    expect(out.counts.created).toBe(GROUP_COUNT);
    expect(out.meter.recordWrites).toBe(GROUP_COUNT);

    const records = await recordsOf(h.db, h.tenantId, 'groups');
    expect(records.size).toBe(GROUP_COUNT);
    for (const g of groups) {
      const r = records.get(rec(g.email));
      expect(r, g.email).toBeDefined();
      expect(r!.data).toMatchObject({
        email: g.email,
        name: g.name,
        description: g.description ?? null,
        memberCount: g.directMembersCount,
        members: expectedMembers(membersOf.get(g.id)!),
        _sync: { entity: 'groups', sourceId: g.id, status: 'active', removedAt: null },
      });
    }
    const big = groups.find((g) => membersOf.get(g.id)!.length === largest)!;
    const bigMembers = records.get(rec(big.email))!.data.members as Array<{ role: string }>;
    expect(bigMembers).toHaveLength(largest);
    expect(bigMembers.filter((m) => m.role === 'OWNER').length).toBeGreaterThan(0);

    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(run.pages).toBe(Math.ceil(GROUP_COUNT / PAGE_SIZE));

    // Every Directory request went through the budget: the group pages and each group's member pages.
    const memberPages = [...membersOf.values()].reduce(
      (n, m) => n + Math.max(1, Math.ceil(m.length / 200)),
      0,
    );
    const stats = await h.ws.control.getStats();
    const served = (route: string) => stats.byRoute[route]?.total ?? 0;
    expect(served('directory.groups.list')).toBe(Math.ceil(GROUP_COUNT / PAGE_SIZE));
    expect(served('directory.members.list')).toBe(memberPages);
    expect(counter.acquired).toBe(served('directory.groups.list') + served('directory.members.list'));
    console.log(
      `groups sync: ${GROUP_COUNT} groups, ${[...membersOf.values()].reduce((n, m) => n + m.length, 0)} ` +
        `memberships (largest ${largest}), ${counter.acquired} Directory requests, ${out.meter.recordWrites} record writes`,
    );
  });

  it('a re-sync of unchanged groups writes no record', async () => {
    const before = await recordsOf(h.db, h.tenantId, 'groups');
    const out = await h.sync('groups');
    if (out.status !== 'completed') throw new Error(JSON.stringify(out));
    expect(out.counts.unchanged).toBe(GROUP_COUNT);
    expect(out.counts.created + out.counts.updated + out.counts.removed).toBe(0);
    expect(out.meter.recordWrites).toBe(0);
    const after = await recordsOf(h.db, h.tenantId, 'groups');
    for (const [id, r] of before) expect(after.get(id)!.updateTime).toBe(r.updateTime);
  });

  it('a member added, a role changed and a group renamed update exactly those records', async () => {
    const groups = (await h.ws.listGroups()).sort((a, b) => a.email.localeCompare(b.email));
    const withMembers = [];
    for (const g of groups) {
      const members = await h.ws.listMembers(g.id);
      if (members.some((m) => m.type === 'USER' && m.role === 'MEMBER') && members.length < 100) {
        withMembers.push({ g, members });
      }
    }
    const [a, b, c] = withMembers;
    expect(c).toBeDefined();
    const users = await h.ws.listUsers();
    const newcomer = users.find((u) => !a!.members.some((m) => m.email === u.primaryEmail))!;
    await h.ws.control.addGroupMember(h.ws.customerId, a!.g.email, {
      email: newcomer.primaryEmail,
      role: 'MANAGER',
    });
    const promoted = b!.members.find((m) => m.type === 'USER' && m.role === 'MEMBER')!;
    await h.ws.control.updateGroupMember(h.ws.customerId, b!.g.email, promoted.email!, { role: 'OWNER' });
    await h.ws.control.updateGroup(h.ws.customerId, c!.g.email, { name: 'Renamed Group' });

    const before = await recordsOf(h.db, h.tenantId, 'groups');
    const out = await h.sync('groups');
    if (out.status !== 'completed') throw new Error(JSON.stringify(out));
    expect(out.counts).toMatchObject({ updated: 3, created: 0, removed: 0, unchanged: GROUP_COUNT - 3 });
    expect(out.meter.recordWrites).toBe(3);

    const after = await recordsOf(h.db, h.tenantId, 'groups');
    const changed = [...after]
      .filter(([id, r]) => before.get(id)!.updateTime !== r.updateTime)
      .map(([id]) => id);
    expect(changed.sort()).toEqual([rec(a!.g.email), rec(b!.g.email), rec(c!.g.email)].sort());

    const aMembers = after.get(rec(a!.g.email))!.data.members as Array<Record<string, unknown>>;
    expect(aMembers).toContainEqual({
      email: newcomer.primaryEmail.toLowerCase(),
      role: 'MANAGER',
      type: 'USER',
      status: 'ACTIVE',
    });
    expect(after.get(rec(a!.g.email))!.data.memberCount).toBe(String(a!.members.length + 1));
    const bMembers = after.get(rec(b!.g.email))!.data.members as Array<Record<string, unknown>>;
    expect(bMembers.find((m) => m.email === promoted.email!.toLowerCase())).toMatchObject({ role: 'OWNER' });
    expect(after.get(rec(c!.g.email))!.data.name).toBe('Renamed Group');
  });

  it('a deleted group is marked removed with the reason, not deleted', async () => {
    // A group that is nobody's member: deleting a nested group also changes the groups it belonged to.
    const groups = await h.ws.listGroups();
    const nested = new Set<string>();
    for (const g of groups)
      for (const m of await h.ws.listMembers(g.id)) if (m.type === 'GROUP') nested.add(m.id!);
    const victim = groups.find((g) => g.name !== 'All Staff' && !nested.has(g.id));
    await h.ws.control.deleteGroup(h.ws.customerId, victim!.email);
    const out = await h.sync('groups');
    if (out.status !== 'completed') throw new Error(JSON.stringify(out));
    expect(out.counts.removed).toBe(1);
    expect(out.meter.recordWrites).toBe(1);
    const gone = (await recordsOf(h.db, h.tenantId, 'groups')).get(rec(victim!.email));
    expect(gone).toBeDefined();
    expect(gone!.data.name).toBe(victim!.name);
    expect(gone!.data._sync).toMatchObject({ status: 'removed', removedRunId: out.runId });
    expect(String((gone!.data._sync as Record<string, unknown>).removedReason)).toMatch(
      /not returned by Google Workspace/,
    );
    expect(String((gone!.data._sync as Record<string, unknown>).removedReason)).not.toMatch(/org unit/);

    // Removed once: the next pass has nothing more to say about it.
    const again = await h.sync('groups');
    if (again.status !== 'completed') throw new Error(JSON.stringify(again));
    expect(again.counts.removed).toBe(0);
    expect(again.meter.recordWrites).toBe(0);
  });
});
