/**
 * `tenants/{t}/runs/{runId}`: the history of sync runs. The engine creates a run once and updates it as the run
 * goes; the API reads it.
 */
export {};

// --- reads for the API ---

// Aliased so that the engine's imports at the top of the file (same modules) cannot collide with these.
import type { DocumentData as RunData, Firestore as RunDb } from '@google-cloud/firestore';
import { paths as runPaths } from '../../../shared/firestore-paths.js';

/** A run document as stored; the engine owns its shape, the API shows selected fields (api/run-views.ts). */
export interface StoredRun {
  id: string;
  data: RunData;
}

/** Newest first. Needs the composite index runs(mappingId ASC, startedAt DESC) when filtered by mapping. */
export async function listRuns(
  db: RunDb,
  tenantId: string,
  opts: { mappingId?: string; limit: number },
): Promise<StoredRun[]> {
  const runs = db.collection(runPaths.runs(tenantId));
  const scoped = opts.mappingId ? runs.where('mappingId', '==', opts.mappingId) : runs;
  const snap = await scoped.orderBy('startedAt', 'desc').limit(opts.limit).get();
  return snap.docs.map((d) => ({ id: d.id, data: d.data() }));
}

export async function readRun(db: RunDb, tenantId: string, runId: string): Promise<StoredRun | null> {
  const snap = await db.doc(runPaths.run(tenantId, runId)).get();
  return snap.exists ? { id: snap.id, data: snap.data()! } : null;
}
