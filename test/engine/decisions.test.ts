import { describe, expect, it } from 'vitest';
import {
  afterPage,
  leaseVerdict,
  passFor,
  removalVerdict,
  waitBudgetMs,
  type LeaseView,
} from '../../functions/src/engine/decisions.js';
import { planPage } from '../../functions/src/engine/page-plan.js';
import { personRecordId } from '../../functions/src/people/person-record-id.js';
import type { Mapping } from '../../shared/mapping.js';

// The engine's decisions are pure: these run in milliseconds, without Java or any emulator.

const idle: LeaseView = {
  status: 'idle',
  runId: null,
  requestId: null,
  leaseId: null,
  leaseExpiresAt: 0,
  stalledDeliveries: 0,
};
const running = (over: Partial<LeaseView> = {}): LeaseView => ({
  status: 'running',
  runId: 'run-1',
  requestId: 'req-1',
  leaseId: 'lease-1',
  leaseExpiresAt: 10_000,
  stalledDeliveries: 0,
  ...over,
});

describe('leaseVerdict', () => {
  it('starts a run for a new request, and drops one already handled however many runs came after', () => {
    expect(leaseVerdict(idle, { trigger: 'schedule', requestId: 'r' }, false, 0, 5)).toEqual({
      kind: 'start',
    });
    expect(leaseVerdict(idle, { trigger: 'schedule', requestId: 'r' }, true, 0, 5)).toMatchObject({
      kind: 'drop',
      reason: expect.stringMatching(/already handled/),
    });
  });

  it('waits out a live lease of the same run instead of handing the message back to Pub/Sub', () => {
    expect(leaseVerdict(running(), { trigger: 'schedule', requestId: 'req-1' }, false, 5_000, 5)).toEqual({
      kind: 'wait',
      runId: 'run-1',
      untilMs: 10_000,
    });
  });

  it('resumes the same run once its lease ended (the holder handed over or died)', () => {
    const expired = running({ leaseExpiresAt: 1_000 });
    expect(leaseVerdict(expired, { trigger: 'schedule', requestId: 'req-1' }, false, 5_000, 5)).toEqual({
      kind: 'resume',
      runId: 'run-1',
    });
    expect(
      leaseVerdict(
        running({ leaseId: null }),
        { trigger: 'continuation', requestId: 'x', runId: 'run-1' },
        false,
        0,
        5,
      ),
    ).toEqual({ kind: 'resume', runId: 'run-1' });
  });

  it('gives up on a run that keeps being taken over without progress', () => {
    const stalled = running({ leaseExpiresAt: 0, stalledDeliveries: 5 });
    expect(leaseVerdict(stalled, { trigger: 'schedule', requestId: 'req-1' }, false, 5_000, 5)).toEqual({
      kind: 'give-up',
      runId: 'run-1',
      deliveries: 5,
      thenStart: false,
    });
  });

  it('has another request take over a run nobody holds, instead of dropping it as covered', () => {
    // The holder died and its own message may never come back (acked, dead-lettered, expired): dropping every
    // later request as "covered" would leave the run running and the mapping blocked for good.
    const other = { trigger: 'schedule', requestId: 'tick-2' };
    expect(leaseVerdict(running({ leaseExpiresAt: 1_000 }), other, false, 5_000, 5)).toEqual({
      kind: 'resume',
      runId: 'run-1',
    });
    expect(leaseVerdict(running({ leaseId: null, leaseExpiresAt: 0 }), other, false, 0, 5)).toEqual({
      kind: 'resume',
      runId: 'run-1',
    });
    // While the lease is live the holder may be working: the request is covered by its run.
    expect(leaseVerdict(running(), other, false, 5_000, 5)).toMatchObject({
      kind: 'drop',
      reason: expect.stringMatching(/covered/),
    });
    // A late redelivery of a request handled before never takes anything over.
    expect(leaseVerdict(running({ leaseExpiresAt: 1_000 }), other, true, 5_000, 5)).toMatchObject({
      kind: 'drop',
      reason: expect.stringMatching(/already handled/),
    });
    // A stale continuation of an earlier run stays stale, whoever holds the lease.
    expect(
      leaseVerdict(
        running({ leaseExpiresAt: 1_000 }),
        { trigger: 'continuation', requestId: 'x', runId: 'run-0' },
        false,
        5_000,
        5,
      ),
    ).toMatchObject({ kind: 'drop', reason: expect.stringMatching(/stale continuation/) });
  });

  it('ends a stalled run for another request, which then starts its own', () => {
    const stalled = running({ leaseExpiresAt: 0, stalledDeliveries: 5 });
    expect(leaseVerdict(stalled, { trigger: 'schedule', requestId: 'tick-2' }, false, 5_000, 5)).toEqual({
      kind: 'give-up',
      runId: 'run-1',
      deliveries: 5,
      thenStart: true,
    });
  });

  it('covers other requests with the running run and drops stale continuations', () => {
    expect(leaseVerdict(running(), { trigger: 'manual', requestId: 'other' }, false, 0, 5)).toMatchObject({
      kind: 'drop',
      reason: expect.stringMatching(/covered/),
    });
    expect(
      leaseVerdict(running(), { trigger: 'continuation', requestId: 'x', runId: 'run-0' }, false, 0, 5),
    ).toMatchObject({ kind: 'drop', reason: expect.stringMatching(/stale continuation/) });
    expect(
      leaseVerdict(idle, { trigger: 'continuation', requestId: 'x', runId: 'run-0' }, false, 0, 5),
    ).toMatchObject({ kind: 'drop', reason: expect.stringMatching(/already finished/) });
  });

  it('waits in-process only within the budget', () => {
    expect(waitBudgetMs(10_000, 4_000, 30_000)).toBe(6_000);
    expect(waitBudgetMs(100_000, 0, 30_000)).toBeNull();
    expect(waitBudgetMs(1_000, 4_000, 30_000)).toBe(0);
  });
});

describe('removalVerdict', () => {
  it('holds removals above the threshold unless confirmed', () => {
    expect(removalVerdict(11, 100, 10, false)).toMatchObject({ held: true, sharePercent: 11 });
    expect(removalVerdict(10, 100, 10, false)).toMatchObject({ held: false });
    expect(removalVerdict(50, 100, 10, true)).toMatchObject({ held: false });
    expect(removalVerdict(0, 0, 10, false)).toMatchObject({ held: false, sharePercent: 0 });
  });
});

describe('afterPage and passFor', () => {
  it('completes on the last page, hands over when the budget is used, else goes on', () => {
    expect(afterPage(null, 999_999, 1)).toBe('complete');
    expect(afterPage('t', 10, 100)).toBe('next-page');
    expect(afterPage('t', 100, 100)).toBe('hand-over');
  });

  it('runs incrementally only with a kept cursor, and fully when removals are being confirmed', () => {
    expect(passFor({ incrementalSupported: true, resumeCursor: 'd', confirmRemovals: false })).toBe(
      'incremental',
    );
    expect(passFor({ incrementalSupported: true, resumeCursor: 'd', confirmRemovals: true })).toBe('full');
    expect(passFor({ incrementalSupported: true, resumeCursor: null, confirmRemovals: false })).toBe('full');
    expect(passFor({ incrementalSupported: false, resumeCursor: 'd', confirmRemovals: false })).toBe('full');
  });
});

describe('planPage', () => {
  const mapping: Pick<Mapping, 'source' | 'entity' | 'identifier' | 'target' | 'fieldMap' | 'orgUnitScope'> =
    {
      source: 'entra',
      entity: 'users',
      identifier: 'email',
      target: { kind: 'people' },
      fieldMap: [{ source: 'displayName', target: 'fullName' }],
      orgUnitScope: null,
    };
  const user = (id: string, email: string, displayName = 'X') => ({
    kind: 'upsert' as const,
    object: { id, email, displayName, accountEnabled: true },
  });
  const A = personRecordId('a@x.org');
  const B = personRecordId('b@x.org');
  const empty = { indexed: () => undefined, seen: () => undefined, recordOfSource: () => undefined };

  it('applies changes in the order reported: removed then restored ends restored', () => {
    const known = {
      ...empty,
      indexed: (id: string) => (id === A ? 'h|u1' : undefined),
      recordOfSource: (s: string) => (s === 'u1' ? A : undefined),
    };
    const restored = planPage(
      mapping,
      [{ kind: 'remove', sourceId: 'u1', reason: 'deleted' }, user('u1', 'a@x.org')],
      known,
      'incremental',
      'Microsoft Entra',
    );
    expect(restored.removed).toEqual({});
    expect(Object.keys(restored.seen)).toEqual([A]);

    const removed = planPage(
      mapping,
      [user('u1', 'a@x.org', 'New'), { kind: 'remove', sourceId: 'u1', reason: 'deleted' }],
      known,
      'incremental',
      'Microsoft Entra',
    );
    expect(removed.removed).toEqual({ [A]: 'deleted' });
    expect(removed.writes).toEqual([]);
    expect(removed.counts).toMatchObject({ created: 0, updated: 0 });
    expect(removed.seen).toEqual({});
  });

  it('an identifier change in an incremental pass removes the old record', () => {
    const plan = planPage(
      mapping,
      [user('u1', 'b@x.org')],
      { ...empty, indexed: () => 'h|u1', recordOfSource: () => A },
      'incremental',
      'Microsoft Entra',
    );
    expect(plan.removed).toEqual({ [A]: 'email changed in Microsoft Entra to b@x.org' });
    expect(plan.writes.map((w) => w.recordId)).toEqual([B]);
  });

  it('keeps the first of two source objects with one identifier and reports the second', () => {
    const plan = planPage(
      mapping,
      [user('u1', 'a@x.org'), user('u2', 'a@x.org')],
      empty,
      'full',
      'Microsoft Entra',
    );
    expect(plan.counts).toMatchObject({ created: 1, failed: 1 });
    expect(plan.errors[0]).toMatch(/duplicate email "a@x.org" \(u2 and u1\)/);
  });
});

describe('push requests (functions/src/push)', () => {
  const live = {
    status: 'running' as const,
    runId: 'r1',
    requestId: 'q1',
    leaseId: 'l1',
    leaseExpiresAt: 10_000,
    stalledDeliveries: 0,
    runStartedAt: 1_000,
  };
  it('a push notified after the running run started waits for it; one notified before is covered', () => {
    expect(
      leaseVerdict(live, { trigger: 'push', requestId: 'p', notifiedAt: 2_000 }, false, 5_000, 5).kind,
    ).toBe('wait');
    expect(
      leaseVerdict(live, { trigger: 'push', requestId: 'p', notifiedAt: 100 }, false, 5_000, 5).kind,
    ).toBe('drop');
    expect(leaseVerdict(live, { trigger: 'schedule', requestId: 's' }, false, 5_000, 5).kind).toBe('drop');
  });
  it('when idle, a push covered by the last run is dropped, a later one starts', () => {
    const idle = { ...live, status: 'idle' as const, runId: null, leaseId: null, leaseExpiresAt: 0 };
    expect(
      leaseVerdict(idle, { trigger: 'push', requestId: 'p', notifiedAt: 100 }, false, 5_000, 5).kind,
    ).toBe('drop');
    expect(
      leaseVerdict(idle, { trigger: 'push', requestId: 'p', notifiedAt: 900 }, false, 5_000, 5).kind,
    ).toBe('start');
  });
  it('push runs are incremental; scheduled and manual runs of a push source stay full', () => {
    const base = { incrementalSupported: true, resumeCursor: 'c', confirmRemovals: false };
    expect(passFor({ ...base, trigger: 'push', incrementalOnlyOnPush: true })).toBe('incremental');
    expect(passFor({ ...base, trigger: 'schedule', incrementalOnlyOnPush: true })).toBe('full');
    expect(passFor({ ...base, trigger: 'manual', incrementalOnlyOnPush: true })).toBe('full');
    expect(passFor({ ...base, trigger: 'schedule' })).toBe('incremental');
  });
});
