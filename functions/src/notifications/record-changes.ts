import { recordsForDiff, type StoredRecordDocs } from '../store/records.js';
import { readNotificationSettings, type NotificationSettings } from '../store/notification-settings.js';
import { channelsFor, stageTenantEvent, type NotifyDeps, type StagedEvent } from './emit.js';
import { RECORDS_PER_EVENT, type RecordsChangedData } from './events.js';

/**
 * records.changed events for one run's record writes: a page's writes become one event (a few past
 * RECORDS_PER_EVENT) naming the records created, and the records updated with the names of the fields that
 * changed; a removal sweep names the records removed with the reason. The cost is bounded per page, not per
 * record: one outbox write per event. The changed fields are named from the page's records as stored before,
 * which the record sink reads anyway for their history (the hash index says that a record changed, not which
 * field), so an event costs no read of its own. A tenant whose channels do not want records.changed pays one
 * settings read per invocation and nothing more.
 */
export interface RecordChangeNotifier {
  /**
   * Stages the page's event before its records are written; call the returned function after they are.
   * `stored`: the record documents as they were before this write (store/records.ts readRecordDocs; absent or
   * null: new).
   */
  beforeWrite(
    records: ReadonlyArray<{ recordId: string; data: Record<string, unknown>; status: string }>,
    stored: StoredRecordDocs,
  ): Promise<() => Promise<void>>;
  beforeRemove(removals: ReadonlyArray<{ recordId: string; reason: string }>): Promise<() => Promise<void>>;
}

const nothing = async () => {};

export function recordChangeNotifier(
  deps: NotifyDeps,
  ctx: { tenantId: string; mappingId: string; runId: string; objectId: string },
): RecordChangeNotifier {
  let settings: Promise<NotificationSettings> | null = null;
  const wanted = async () => {
    settings ??= readNotificationSettings(deps.db, ctx.tenantId);
    const s = await settings;
    const c = channelsFor(s, 'records.changed', deps.emailEnabled);
    return c.webhook || c.email ? s : null;
  };

  const stage = async (
    changes: Omit<RecordsChangedData, 'runId' | 'mappingId' | 'objectId'>,
    s: NotificationSettings,
  ) => {
    const staged: StagedEvent[] = [];
    const items = [
      ...changes.created.map((id) => ({ kind: 'created' as const, id })),
      ...changes.updated.map((u) => ({ kind: 'updated' as const, u })),
      ...changes.removed.map((r) => ({ kind: 'removed' as const, r })),
    ];
    for (let i = 0; i < items.length; i += RECORDS_PER_EVENT) {
      const chunk = items.slice(i, i + RECORDS_PER_EVENT);
      const data: RecordsChangedData = {
        runId: ctx.runId,
        mappingId: ctx.mappingId,
        objectId: ctx.objectId,
        created: chunk.flatMap((x) => (x.kind === 'created' ? [x.id] : [])),
        updated: chunk.flatMap((x) => (x.kind === 'updated' ? [x.u] : [])),
        removed: chunk.flatMap((x) => (x.kind === 'removed' ? [x.r] : [])),
      };
      // The same changes in the same run are the same event: a redone page does not send it twice.
      const event = await stageTenantEvent(
        deps,
        ctx.tenantId,
        { type: 'records.changed', data },
        { dedupeKey: JSON.stringify(data), settings: s },
      );
      if (event) staged.push(event);
    }
    return async () => {
      for (const e of staged) await e.publish();
    };
  };

  return {
    async beforeWrite(records, stored) {
      if (records.length === 0) return nothing;
      const s = await wanted();
      if (!s) return nothing;
      // Only now that someone wants the event: the mapped fields of what is stored, to compare with.
      const before = recordsForDiff(stored);
      const created: string[] = [];
      const updated: Array<{ id: string; fields: string[] }> = [];
      for (const r of records) {
        const prev = before.get(r.recordId);
        if (!prev) {
          created.push(r.recordId);
          continue;
        }
        const fields = changedFields(prev.fields, r.data);
        if (prev.status !== r.status) fields.push('_sync.status');
        if (fields.length > 0) updated.push({ id: r.recordId, fields });
      }
      if (created.length + updated.length === 0) return nothing;
      return stage({ created, updated, removed: [] }, s);
    },
    async beforeRemove(removals) {
      if (removals.length === 0) return nothing;
      const s = await wanted();
      if (!s) return nothing;
      return stage(
        { created: [], updated: [], removed: removals.map((r) => ({ id: r.recordId, reason: r.reason })) },
        s,
      );
    },
  };
}

/** Top-level fields whose values differ (compared as JSON), sorted. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names]
    .filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null))
    .sort();
}
