import { recordRunError } from '../store/runs.js';
import { afterPage } from './decisions.js';
import { MAX_LISTING_RESTARTS, iso, type Run } from './engine-types.js';
import { identifierOfRecordId } from './record-id.js';
import { SourceError, type SourceChange, type SourcePage, type SourceReader } from './source.js';

/**
 * A full pass listed as disjoint partitions at once (org units, email prefixes: the source decides), so its
 * wall time is not the sum of its pages' latencies. The engine's invariants hold as in a sequential pass:
 * pages are planned and committed one at a time, in the order they arrive (each commit is a checkpoint of every
 * partition, covering only pages planned before it), hand-over happens between pages, an expired page token
 * restarts only its own partition. Only the record writes of a few pages overlap (PAGES_WRITING), so that a
 * first pass is not bound by one page's writes at a time.
 *
 * Completeness does not rest on the partitions alone: a partitioned listing is only as good as the source's
 * search (an object moved between partitions mid-run, a search index that lags). So a record the partitions did
 * not return is never removed on their word: it is read again by its identifier (SourceReader.recheck) and only
 * what the source no longer has, or has out of scope, stays absent. Where that cannot be done (too many, an
 * identifier that cannot be read back, a source without recheck), the pass lists everything sequentially
 * before anything is judged absent.
 */

/** A checkpoint of a partitioned pass, as the state's cursor. The prefix keeps it apart from a source cursor. */
const PREFIX = 'partitioned:';

/**
 * Pages whose record writes may be under way at once. Writes, not requests, bound a first pass (a page of 500
 * records is hundreds of document writes, committed one page at a time); a few pages at once keep Firestore
 * busy without holding many pages in memory (8 rather than 4 took a 20,000-user first sync from 6.3 to 5.7 s in
 * the benchmark, for some 30 MiB more peak RSS in its 100,000-user pass).
 */
export const PAGES_WRITING = 8;

/**
 * Pages received and not yet committed, at most, before another request is sent. Without it, when pages arrive
 * faster than they are written (a fast source, a first sync), every walk would hold a page waiting for a write
 * slot and another fetched ahead: 64 pages of 500 full users at a concurrency of 32.
 */
export const PAGES_HELD = 2 * PAGES_WRITING;

/** Above this many absentees, reading each back costs more than one sequential listing: list instead. */
export const MAX_RECHECKS = 200;

interface PartitionState {
  key: string;
  /** The page token the partition goes on from; null = its first page. */
  next: string | null;
  done: boolean;
}

export interface PassCheckpoint {
  /** true: the fallback, one sequential listing through fullPage (a single partition). */
  sequential: boolean;
  parts: PartitionState[];
  /** The absentees were read back (the pass is complete once this commit is). */
  rechecked?: boolean;
}

export const isPartitionedCursor = (cursor: string | null): cursor is string =>
  cursor !== null && cursor.startsWith(PREFIX);

export const encodeCheckpoint = (c: PassCheckpoint) => PREFIX + JSON.stringify(c);

export function decodeCheckpoint(cursor: string): PassCheckpoint {
  const c = JSON.parse(cursor.slice(PREFIX.length)) as PassCheckpoint;
  if (!Array.isArray(c.parts)) throw new Error('malformed partitioned checkpoint');
  return c;
}

export const checkpointOf = (keys: string[]): PassCheckpoint => ({
  sequential: false,
  parts: keys.map((key) => ({ key, next: null, done: false })),
});

const sequentialCheckpoint = (): PassCheckpoint => ({
  sequential: true,
  parts: [{ key: '*', next: null, done: false }],
});

export interface Fetched<T> {
  value: T;
  retries: number;
}

/** What the engine lends the partitioned pass: the same page processing and retries as a sequential one. */
export interface PartitionedPassContext {
  run: Run;
  reader: SourceReader;
  concurrency: number;
  /** One source call with the engine's bounded retries on retry_later. */
  fetch<T>(call: () => Promise<T>): Promise<Fetched<T>>;
  /** Plans, writes, folds and commits one page with `checkpoint` as the cursor (then afterPageCommitted). */
  processPage(changes: SourceChange[], checkpoint: string, retries: number): Promise<void>;
  /**
   * processPage in two halves: plans and folds the page and starts its writes; the returned commit waits for
   * them and commits. Commits must run in the order the pages were prepared.
   */
  preparePage(changes: SourceChange[], retries: number): PageCommit;
  /** Record ids the index holds that this run has not seen. */
  absentees(): string[];
}

/** Commits a prepared page with `checkpoint` as the cursor. */
export type PageCommit = (checkpoint: string | null) => Promise<void>;

export type PassEnd = { kind: 'complete' } | { kind: 'hand-over' } | { kind: 'failed'; err: unknown };

export async function runPartitionedPass(
  ctx: PartitionedPassContext,
  start: PassCheckpoint,
): Promise<PassEnd> {
  let checkpoint = start;
  for (;;) {
    if (!checkpoint.rechecked) {
      const listed = await listPartitions(ctx, checkpoint);
      if (listed.kind !== 'complete') return listed;
    }
    if (checkpoint.sequential || checkpoint.rechecked) return { kind: 'complete' };
    const verdict = await recheckAbsentees(ctx, checkpoint);
    if (verdict !== 'list-sequentially') return verdict;
    ctx.run.log.info('absentees of a partitioned pass cannot be read back; listing everything sequentially');
    checkpoint = sequentialCheckpoint();
  }
}

/** Lists every partition not done, `concurrency` at a time, committing pages one by one in arrival order. */
async function listPartitions(ctx: PartitionedPassContext, checkpoint: PassCheckpoint): Promise<PassEnd> {
  const { run, reader } = ctx;
  const pending = checkpoint.parts.filter((p) => !p.done);
  let stop: PassEnd | { kind: 'throw'; err: unknown } | null = null;
  let commits: Promise<void> = Promise.resolve();
  /** Commits not yet done, oldest first (at most PAGES_WRITING before a partition prepares another page). */
  const inFlight: Array<Promise<void>> = [];
  /**
   * A page is prepared (planned, folded, its writes started) and queued for commit in the order pages arrive;
   * its checkpoint is taken then, so it covers no page prepared after it.
   */
  const enqueue = (part: PartitionState, page: SourcePage, retries: number) => {
    if (stop) {
      held--;
      return;
    }
    let commit: PageCommit;
    try {
      commit = ctx.preparePage(page.changes, retries);
    } catch (err) {
      held--;
      stop ??= { kind: 'throw', err };
      return;
    }
    if (meets(part, page)) {
      const companion = companionOf.get(part.key)!;
      part.next = companion.next = null;
      part.done = companion.done = true;
    } else {
      part.next = page.next;
      part.done = page.next === null;
    }
    const cursor = encodeCheckpoint(checkpoint);
    const more = checkpoint.parts.some((p) => !p.done);
    const committed = commits.then(async () => {
      try {
        // A page prepared before the stop is still committed if the commits before it were: its writes are
        // done or under way, and its checkpoint covers only what was prepared before it.
        if (stop?.kind === 'throw') return;
        await commit(cursor);
      } catch (err) {
        // A lost lease, a crash at a page boundary: nothing more may be committed by this invocation.
        stop ??= { kind: 'throw', err };
        return;
      }
      const elapsed = run.deps.clock.now() - run.startedAt;
      if (more && afterPage(cursor, elapsed, run.deps.config.invocationBudgetMs) === 'hand-over')
        stop ??= { kind: 'hand-over' };
    });
    commits = committed;
    inFlight.push(committed);
    void committed.finally(() => {
      held--;
      inFlight.splice(inFlight.indexOf(committed), 1);
    });
  };
  /**
   * Both-ends walks: a partition whose first page says there is more is also walked from its other end
   * (SourceReader.reversePartition), so a large partition costs half its round trips one after another. Each
   * walk keeps the keys of what it listed; once one lists an object the other has listed, the two have met and
   * together cover the partition, so both are done. A resumed pair has forgotten what it listed and walks on
   * until it meets again or each reaches its end, which is slower but as complete.
   */
  const partOf = new Map(checkpoint.parts.map((p) => [p.key, p]));
  const companionOf = new Map<string, PartitionState>();
  /** Keys of the pages each walk has queued for commit: a meeting there marks both walks done. */
  const listedBy = new Map<string, Set<string>>();
  /**
   * Keys of the pages each walk has received: a meeting there already stops the walk fetching further (its
   * current page is still committed, and the commits mark both done then).
   */
  const arrivedBy = new Map<string, Set<string>>();
  const pair = (a: PartitionState, b: PartitionState) => {
    companionOf.set(a.key, b);
    companionOf.set(b.key, a);
    for (const sets of [listedBy, arrivedBy]) {
      sets.set(a.key, sets.get(a.key) ?? new Set());
      sets.set(b.key, sets.get(b.key) ?? new Set());
    }
  };
  const reverseKeyOf = (key: string) => reader.reversePartition?.(key) ?? null;
  for (const part of checkpoint.parts) {
    const reverse = reverseKeyOf(part.key);
    const other = reverse === null ? undefined : partOf.get(reverse);
    if (other) pair(part, other);
  }
  /** Whether this page met the companion walk in `sets` (and records its keys there, for the companion). */
  const meets = (part: PartitionState, page: SourcePage, sets = listedBy): boolean => {
    const own = sets.get(part.key);
    if (!own || !reader.objectKey) return false;
    const theirs = sets.get(companionOf.get(part.key)!.key)!;
    let met = false;
    for (const change of page.changes) {
      if (change.kind !== 'upsert') continue;
      const key = reader.objectKey(change.object);
      if (key === null) continue;
      if (theirs.has(key)) met = true;
      own.add(key);
    }
    return met;
  };

  /** Pages received and not committed yet (PAGES_HELD). */
  let held = 0;
  const pageOf = (part: PartitionState, token: string | null): Promise<Fetched<SourcePage>> => {
    const page = (async () => {
      // Room first: each commit that ends frees a page (a page dropped unqueued frees its own at once).
      while (held >= PAGES_HELD && inFlight.length > 0 && !stop) await inFlight[0];
      const fetched = await ctx.fetch((): Promise<SourcePage> =>
        checkpoint.sequential || !reader.partitionPage
          ? reader.fullPage(token)
          : reader.partitionPage(part.key, token),
      );
      held++;
      return fetched;
    })();
    // A page fetched ahead is awaited only once the walk is back from its writes, maybe after it failed: marked
    // handled now, so that failure is not reported as unhandled meanwhile (the walk still gets it when it awaits).
    page.catch(() => undefined);
    return page;
  };

  const queue = [...pending];
  let workers = 0;
  const spawnReverse = (part: PartitionState) => {
    if (!reader.objectKey || companionOf.has(part.key)) return;
    const key = reverseKeyOf(part.key);
    if (key === null || partOf.has(key)) return;
    const reverse: PartitionState = { key, next: null, done: false };
    checkpoint.parts.push(reverse);
    partOf.set(key, reverse);
    pair(part, reverse);
    // A large partition is the pass's critical path: its other end goes before the partitions not started.
    queue.unshift(reverse);
    if (workers < Math.max(1, ctx.concurrency)) void worker();
  };

  /** A page fetched ahead and never used frees its room when it arrives (a failure holds none). */
  const dropUnused = (fetching: Promise<Fetched<SourcePage>>) =>
    void fetching.then(
      () => void held--,
      () => undefined,
    );

  const listOne = async (part: PartitionState) => {
    let restarts = 0;
    let fetching = pageOf(part, part.next);
    while (!stop && !part.done) {
      let fetched: Fetched<SourcePage>;
      try {
        fetched = await fetching;
      } catch (err) {
        if (stop || part.done) return;
        if (err instanceof SourceError && err.kind === 'restart_listing' && restarts < MAX_LISTING_RESTARTS) {
          restarts++;
          // Only this partition's token expired: what every partition saw still counts; list this one again.
          await recordRunError(
            run.deps.db,
            run.lease,
            `${err.message}; restarting partition ${part.key} from its first page`,
            iso(run),
          );
          run.meter.bookkeepingWrites++;
          // What this walk listed before the restart no longer tells where it is.
          listedBy.get(part.key)?.clear();
          arrivedBy.get(part.key)?.clear();
          fetching = pageOf(part, null);
          continue;
        }
        stop ??= { kind: 'failed', err };
        return;
      }
      // The companion walk met this one while the page was on its way: the page is covered already.
      if (part.done) {
        held--;
        return;
      }
      const { value: page, retries } = fetched;
      const firstPage = restarts === 0 && part.next === null && !companionOf.has(part.key);
      if (firstPage && page.next !== null) spawnReverse(part);
      const met = meets(part, page, arrivedBy);
      // The next page of this partition is fetched while this one is written (as the sequential pass does).
      const ahead = page.next !== null && !met;
      if (ahead) fetching = pageOf(part, page.next);
      // Writes of earlier pages may still be under way; past PAGES_WRITING, wait for the oldest commit.
      while (inFlight.length >= PAGES_WRITING && !stop) await inFlight[0];
      if (part.done) {
        held--;
        if (ahead) dropUnused(fetching);
        return;
      }
      enqueue(part, page, retries);
      // Met the other walk: whichever of the two meeting pages is queued last marks both done.
      if (page.next === null || met) return;
    }
    // Stopped, or met by the companion after this walk queued its page: the page fetched ahead is not needed.
    dropUnused(fetching);
  };

  const running: Array<Promise<void>> = [];
  const worker = (): Promise<void> => {
    workers++;
    const done = (async () => {
      for (let part = queue.shift(); part && !stop; part = queue.shift()) await listOne(part);
    })().finally(() => workers--);
    running.push(done);
    return done;
  };
  for (let i = 0; i < Math.max(1, Math.min(ctx.concurrency, queue.length)); i++) void worker();
  // Workers started later (a reverse walk) join `running` before the last of the earlier ones ends.
  for (let i = 0; i < running.length; i++) await running[i];
  await commits;
  // Assigned in the closures above, which the compiler does not follow.
  const ended = stop as PassEnd | { kind: 'throw'; err: unknown } | null;
  if (ended === null) return { kind: 'complete' };
  if (ended.kind === 'throw') throw ended.err;
  return ended;
}

/**
 * Reads back what the partitions did not return, before anything is judged absent. What still exists is
 * planned like any listed object (in scope: seen, so not removed; out of scope: absent, as a sequential pass
 * would find it); what is gone stays absent for the removal threshold.
 */
async function recheckAbsentees(
  ctx: PartitionedPassContext,
  checkpoint: PassCheckpoint,
): Promise<PassEnd | 'list-sequentially'> {
  const absent = ctx.absentees();
  if (absent.length === 0) return { kind: 'complete' };
  const values = absent.map(identifierOfRecordId);
  const recheck = ctx.reader.recheck?.bind(ctx.reader);
  if (!recheck || absent.length > MAX_RECHECKS || values.some((v) => v === null)) return 'list-sequentially';
  let fetched: Fetched<Array<Record<string, unknown>> | null>;
  try {
    fetched = await ctx.fetch(() => recheck(values as string[]));
  } catch (err) {
    return { kind: 'failed', err };
  }
  if (fetched.value === null) return 'list-sequentially';
  ctx.run.log.info('read back the absentees of a partitioned pass', {
    absent: absent.length,
    stillThere: fetched.value.length,
  });
  await ctx.processPage(
    fetched.value.map((object) => ({ kind: 'upsert', object })),
    encodeCheckpoint({ ...checkpoint, rechecked: true }),
    fetched.retries,
  );
  return { kind: 'complete' };
}
