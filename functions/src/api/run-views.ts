import type { DocumentData } from '../store/firestore.js';

/** The run fields the console shows; anything else on the run document stays internal. */
const RUN_FIELDS = [
  'runId',
  'mappingId',
  'mappingName',
  'entity',
  'objectId',
  'trigger',
  'status',
  'startedAt',
  'finishedAt',
  'durationMs',
  'counts',
  'pages',
  'invocations',
  'apiRetries',
  'errors',
  'removal',
  'review',
] as const;

export function runView(id: string, data: DocumentData): Record<string, unknown> {
  const out: Record<string, unknown> = { runId: id };
  for (const f of RUN_FIELDS) if (data[f] !== undefined) out[f] = data[f];
  out.runId = id;
  return out;
}

export function runSummary(id: string, data: DocumentData) {
  return {
    runId: id,
    status: data.status ?? null,
    trigger: data.trigger ?? null,
    startedAt: data.startedAt ?? null,
    finishedAt: data.finishedAt ?? null,
    counts: data.counts ?? null,
    removal: data.removal ?? null,
    review: data.review ?? null,
  };
}

/**
 * How far a running run is, measured against the last completed run of its mapping: records seen so far over
 * the records that run saw (its pages when it counted none), and the time left at the pace so far. Null without
 * a previous run (a first sync has nothing to measure against). A run that sees more than the last one did
 * stays at 99 % until it ends.
 */
export function runProgress(
  run: DocumentData,
  previous: { id: string; data: DocumentData } | null,
  now: number,
): Record<string, unknown> | null {
  if (run.status !== 'running' || !previous) return null;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const expectedRecords = num((previous.data.counts as DocumentData | undefined)?.seen);
  const expectedPages = num(previous.data.pages);
  const [done, expected] =
    expectedRecords > 0
      ? [num((run.counts as DocumentData | undefined)?.seen), expectedRecords]
      : [num(run.pages), expectedPages];
  if (expected <= 0) return null;
  const fraction = Math.min(done / expected, 0.99);
  const elapsedMs = Math.max(0, now - Date.parse(String(run.startedAt ?? '')));
  return {
    percent: Math.floor(fraction * 100),
    // Too early to tell below 2 %: the first page's latency says little about the rest.
    etaSeconds:
      fraction >= 0.02 && Number.isFinite(elapsedMs)
        ? Math.round((elapsedMs * (1 - fraction)) / fraction / 1000)
        : null,
    expectedRecords,
    expectedPages,
    basis: previous.id,
  };
}
