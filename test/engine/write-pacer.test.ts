import { describe, expect, it } from 'vitest';
import { FIRESTORE_RAMP, rampPacer, rampRate } from '../../functions/src/engine/write-pacer.js';
import { pacedSink, type RecordSink } from '../../functions/src/engine/record-sink.js';
import type { Clock } from '../../functions/src/platform/clock.js';
import type { MappedRecord } from '../../functions/src/engine/record-mapper.js';

/** A clock whose sleeps only move time on, so a pacer's schedule can be read off without waiting. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

const MIN = 60_000;

describe('the write ramp (Firestore 500/50/5)', () => {
  it('starts at 500 writes/s and grows 50 % every 5 minutes', () => {
    expect(rampRate(FIRESTORE_RAMP, 0)).toBe(500);
    expect(rampRate(FIRESTORE_RAMP, 5 * MIN - 1)).toBe(500);
    expect(rampRate(FIRESTORE_RAMP, 5 * MIN)).toBe(750);
    expect(rampRate(FIRESTORE_RAMP, 10 * MIN)).toBe(1125);
  });

  it('lets the first batch through at once, then spaces batches by the current rate', async () => {
    const clock = fakeClock();
    const pacer = rampPacer(clock);
    await pacer.beforeWrites(500);
    expect(clock.slept).toEqual([]);
    await pacer.beforeWrites(250);
    await pacer.beforeWrites(100);
    // 500 writes take 1 s at 500/s, then 250 take 0.5 s.
    expect(clock.slept).toEqual([1000, 500]);
  });

  it('never sends more than the ramp allows in any 5-minute step of a long first sync', async () => {
    const clock = fakeClock();
    const start = clock.now();
    const pacer = rampPacer(clock);
    const sentInStep = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      await pacer.beforeWrites(500);
      const step = Math.floor((clock.now() - start) / (5 * MIN));
      sentInStep.set(step, (sentInStep.get(step) ?? 0) + 500);
    }
    // Step k allows 500 * 1.5^k writes/s for 300 s; one batch may straddle the step's start.
    for (const [step, sent] of sentInStep) {
      if (step >= 3) continue; // the last step is partial
      const allowed = 500 * 1.5 ** step * 300;
      expect(sent, `step ${step}`).toBeLessThanOrEqual(allowed + 500);
      // ...and it does use the allowance: the ramp paces, it does not stall.
      expect(sent, `step ${step}`).toBeGreaterThanOrEqual(allowed - 1000);
    }
    expect(sentInStep.size).toBeGreaterThanOrEqual(3);
  });

  it('a paced sink waits before writing records and removal marks, and a pacer per invocation restarts low', async () => {
    const clock = fakeClock();
    const calls: string[] = [];
    const inner: RecordSink = {
      write: async (records) => {
        calls.push(`write ${records.length} at ${clock.now()}`);
        return { failed: 0, errors: [] };
      },
      markRemoved: async (removals) => {
        calls.push(`remove ${removals.length} at ${clock.now()}`);
        return removals.length;
      },
    };
    const t0 = clock.now();
    const sink = pacedSink(inner, rampPacer(clock));
    const records = Array.from({ length: 500 }, () => ({}) as MappedRecord);
    await sink.write(records);
    await sink.markRemoved([{ recordId: 'r1', reason: 'gone' }]);
    await sink.write(records.slice(0, 10));
    expect(calls).toEqual([`write 500 at ${t0}`, `remove 1 at ${t0 + 1000}`, `write 10 at ${t0 + 1002}`]);
  });
});
