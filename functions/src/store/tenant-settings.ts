import { randomBytes } from 'node:crypto';
import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { scheduleOfTenant, type TenantSchedule } from '../engine/tenant-schedule.js';
import {
  DEFAULT_PRECEDENCE_POLICY,
  precedencePolicySchema,
  type PrecedencePolicy,
} from '../people/precedence-policy.js';

/**
 * A tenant's settings, kept on the tenant document where their readers look for them:
 *   peoplePrecedence          per-field source order of merged people (store/people.ts reads it per run)
 *   removalThresholdPercent   the tenant's ceiling on removals in one run, in percent; a mapping's own threshold
 *                             applies when lower (engine/engine.ts); absent: each mapping's own
 *   schedule                  {cron, timeZone, lastScheduledAt} (engine/tenant-schedule.ts, engine/fan-out.ts)
 *   settingsVersion           bumped by every change: the API's ETag
 * and every change leaves `tenants/{t}/settingsAudit/{id}`: who, when, and each changed field's old and new value.
 */

export interface TenantSettings {
  peoplePrecedence: PrecedencePolicy;
  removalThresholdPercent: number | null;
  schedule: TenantSchedule & { custom: boolean };
}

export interface StoredSettings {
  settings: TenantSettings;
  version: number;
}

export type SettingsChange = Partial<{
  peoplePrecedence: PrecedencePolicy;
  removalThresholdPercent: number | null;
  schedule: TenantSchedule;
}>;

const thresholdSchema = z.number().min(0).max(100);

function settingsOf(data: Record<string, unknown>): TenantSettings {
  const precedence = precedencePolicySchema.safeParse(data.peoplePrecedence);
  const threshold = thresholdSchema.safeParse(data.removalThresholdPercent);
  const { cron, timeZone, custom } = scheduleOfTenant(data);
  return {
    peoplePrecedence: precedence.success ? precedence.data : DEFAULT_PRECEDENCE_POLICY,
    removalThresholdPercent: threshold.success ? threshold.data : null,
    schedule: { cron, timeZone, custom },
  };
}

const versionOf = (data: Record<string, unknown>) =>
  typeof data.settingsVersion === 'number' ? data.settingsVersion : 1;

export async function readTenantSettings(db: Firestore, tenantId: string): Promise<StoredSettings | null> {
  const snap = await db.doc(paths.tenant(tenantId)).get();
  if (!snap.exists) return null;
  const data = snap.data() ?? {};
  return { settings: settingsOf(data), version: versionOf(data) };
}

/** The tenant's removal ceiling from a tenant document already read (the engine's), or null. */
export function removalCeilingOf(tenant: Record<string, unknown>): number | null {
  const parsed = thresholdSchema.safeParse(tenant.removalThresholdPercent);
  return parsed.success ? parsed.data : null;
}

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export type UpdateSettingsOutcome =
  | { kind: 'updated'; stored: StoredSettings; changes: FieldChange[] }
  | { kind: 'not_found' }
  | { kind: 'stale'; current: number };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Applies `change` (fields left out stay) if the settings are still at `expectedVersion` (when given), and records
 * an audit entry, in one transaction. A changed schedule starts counting from now (`lastScheduledAt = now`), so a
 * due time the old schedule did not have, between the last run and now, does not fire at the next tick. Nothing
 * changed: no write, no audit entry.
 */
export async function updateTenantSettings(
  db: Firestore,
  tenantId: string,
  change: SettingsChange,
  meta: { by: string; now: number; expectedVersion?: number },
): Promise<UpdateSettingsOutcome> {
  const ref = db.doc(paths.tenant(tenantId));
  return db.runTransaction(async (tx): Promise<UpdateSettingsOutcome> => {
    const snap = await tx.get(ref);
    if (!snap.exists) return { kind: 'not_found' };
    const data = snap.data() ?? {};
    const version = versionOf(data);
    if (meta.expectedVersion !== undefined && meta.expectedVersion !== version)
      return { kind: 'stale', current: version };
    const before = settingsOf(data);
    const changes: FieldChange[] = [];
    const update: Record<string, unknown> = {};
    if (change.peoplePrecedence && !same(change.peoplePrecedence, before.peoplePrecedence)) {
      changes.push({ field: 'peoplePrecedence', from: before.peoplePrecedence, to: change.peoplePrecedence });
      update.peoplePrecedence = change.peoplePrecedence;
    }
    if (
      change.removalThresholdPercent !== undefined &&
      change.removalThresholdPercent !== before.removalThresholdPercent
    ) {
      changes.push({
        field: 'removalThresholdPercent',
        from: before.removalThresholdPercent,
        to: change.removalThresholdPercent,
      });
      update.removalThresholdPercent =
        change.removalThresholdPercent === null ? FieldValue.delete() : change.removalThresholdPercent;
    }
    const beforeSchedule = { cron: before.schedule.cron, timeZone: before.schedule.timeZone };
    if (change.schedule && (!same(change.schedule, beforeSchedule) || !before.schedule.custom)) {
      changes.push({ field: 'schedule', from: beforeSchedule, to: change.schedule });
      update['schedule.cron'] = change.schedule.cron;
      update['schedule.timeZone'] = change.schedule.timeZone;
      update['schedule.lastScheduledAt'] = meta.now;
    }
    if (changes.length === 0) return { kind: 'updated', stored: { settings: before, version }, changes };
    const at = new Date(meta.now).toISOString();
    tx.update(ref, {
      ...update,
      settingsVersion: version + 1,
      settingsUpdatedAt: at,
      settingsUpdatedBy: meta.by,
    });
    tx.create(db.doc(`${paths.settingsAudit(tenantId)}/${auditId(meta.now)}`), {
      at,
      by: meta.by,
      version: version + 1,
      // Firestore keeps nested values as given; JSON keeps `null` (a cleared threshold) and drops nothing else.
      changes: changes.map((c) => ({ field: c.field, from: c.from ?? null, to: c.to ?? null })),
    });
    const afterData = { ...data, ...change, schedule: change.schedule ?? data.schedule };
    return {
      kind: 'updated',
      stored: { settings: settingsOf(afterData), version: version + 1 },
      changes,
    };
  });
}

/** Sortable by id (the time, then a random suffix so two changes in one millisecond both stay). */
function auditId(now: number): string {
  return `${String(now).padStart(15, '0')}-${randomBytes(4).toString('hex')}`;
}

const auditEntrySchema = z.object({
  at: z.string(),
  by: z.string(),
  version: z.number().int(),
  changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
});
export type SettingsAuditEntry = z.infer<typeof auditEntrySchema> & { id: string };

export async function listSettingsAudit(
  db: Firestore,
  tenantId: string,
  limit: number,
): Promise<SettingsAuditEntry[]> {
  const snap = await db
    .collection(paths.settingsAudit(tenantId))
    // Versions only grow, so this is newest first (Firestore cannot scan document ids descending).
    .orderBy('version', 'desc')
    .limit(limit)
    .get();
  return snap.docs.flatMap((d) => {
    const parsed = auditEntrySchema.safeParse(d.data());
    return parsed.success ? [{ id: d.id, ...parsed.data }] : [];
  });
}

/**
 * The fan-out started these tenants' scheduled syncs for the tick at `tickAt`. Batched updates; a tenant deleted
 * meanwhile is skipped (an update would fail, a set would bring back an empty tenant).
 */
export async function recordScheduledRuns(
  db: Firestore,
  tenantIds: readonly string[],
  tickAt: number,
): Promise<void> {
  if (tenantIds.length === 0) return;
  const writer = db.bulkWriter();
  const NOT_FOUND = 5;
  let failure: unknown = null;
  writer.onWriteError((err) => {
    if (err.code === NOT_FOUND) return false;
    if (err.failedAttempts < 5) return true;
    failure ??= err;
    return false;
  });
  for (const tenantId of tenantIds)
    void writer
      .update(db.doc(paths.tenant(tenantId)), { 'schedule.lastScheduledAt': tickAt })
      .catch(() => undefined);
  await writer.close();
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
}
