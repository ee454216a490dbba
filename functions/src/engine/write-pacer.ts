import type { Clock } from '../platform/clock.js';

/**
 * Firestore's "500/50/5" guidance for traffic to a new collection (or a new range of document ids): start at
 * no more than 500 writes per second and grow by at most 50% every 5 minutes, so the backend can split the
 * key range before it is hot. A first sync of a large tenant is exactly that: 100,000 new record documents,
 * which unpaced arrive as fast as the Directory API lists them and meet contention errors and latency spikes.
 *
 * The ramp starts when the pacer is made (once per sync invocation, see record-sink.ts): an invocation that
 * continues a run starts low again, which is conservative. A re-sync that writes few records never reaches
 * the limit, so the pacer costs nothing once the collection exists.
 */
export interface WritePacer {
  /** Waits until `count` more writes fit the ramp, then counts them as sent. */
  beforeWrites(count: number): Promise<void>;
}

export interface RampSchedule {
  /** Writes per second at the start. */
  initialPerSecond: number;
  /** Factor per step (1.5 = +50%). */
  growth: number;
  stepMs: number;
}

export const FIRESTORE_RAMP: RampSchedule = { initialPerSecond: 500, growth: 1.5, stepMs: 5 * 60_000 };

/** The rate the schedule allows `elapsedMs` after the start. */
export function rampRate(schedule: RampSchedule, elapsedMs: number): number {
  return schedule.initialPerSecond * schedule.growth ** Math.floor(Math.max(0, elapsedMs) / schedule.stepMs);
}

export const unpaced: WritePacer = { beforeWrites: async () => {} };

/**
 * Spaces batches so that each one's writes take the time the current rate gives them: a batch waits until
 * the previous batches' share of time has passed. The first batch goes at once.
 */
export function rampPacer(clock: Clock, schedule: RampSchedule = FIRESTORE_RAMP): WritePacer {
  const start = clock.now();
  let freeAt = start;
  return {
    async beforeWrites(count) {
      if (count <= 0) return;
      const now = clock.now();
      if (freeAt > now) await clock.sleep(freeAt - now);
      const sendAt = Math.max(now, freeAt);
      freeAt = sendAt + (count / rampRate(schedule, sendAt - start)) * 1000;
    },
  };
}
