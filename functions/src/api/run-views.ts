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
