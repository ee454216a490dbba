import { z } from 'zod';
import { CHROMEOS_MANAGE_SCOPE } from '../../../shared/entities.js';
import {
  DEFAULT_NOTES_TEMPLATE,
  objectIdOf,
  type FieldMapping,
  type Mapping,
} from '../../../shared/mapping.js';
import { ApiError, notFound } from '../api/api-error.js';
import type { RouteContext } from '../api/route-context.js';
import { mapSourceObject, readPath } from '../engine/record-mapper.js';
import { newRunId } from '../engine/run-id.js';
import type { ChromeOsAnnotations, DeviceActionError } from '../sources/google/device-actions.js';
import { requireGoogleScopes } from '../sources/google/require-scopes.js';
import { createDeviceAction, type DeviceActionDoc } from '../store/device-actions.js';
import { setHashIndexEntry } from '../store/hash-index.js';
import { readMapping } from '../store/mappings.js';
import { readRecord, replaceRecords } from '../store/records.js';
import { googleClientFor, needsReauthorization, requireConnected } from './device-actions.js';

/**
 * Write-back of Chrome OS annotations edited in the product: only fields the mapping marks `toGoogle`, only to the
 * device the record was synced from (its Directory deviceId), and only when Google still holds what the last sync
 * saw — otherwise someone changed it at Google since, and overwriting that would lose their edit (409). Notes are
 * the exception: they are appended through the mapping's template, which keeps whatever Google holds, so there is
 * nothing to conflict with. The org unit is sent by id (a path is first resolved to its id). After the PATCH the
 * record and its hash-index entry are set from Google's answer, so the next sync finds it unchanged.
 */

export const writeBackRequestSchema = z.strictObject({
  fields: z
    .record(z.string().min(1).max(100), z.string().max(2000).nullable())
    .refine((f) => Object.keys(f).length > 0, 'at least one field'),
});
export type WriteBackRequest = z.infer<typeof writeBackRequestSchema>;

interface SyncBlock {
  mappingId?: unknown;
  sourceId?: unknown;
  status?: unknown;
}

export interface WriteBackInput {
  tenantId: string;
  tenantRaw: { connection?: unknown };
  objectId: string;
  recordId: string;
  requestedBy: string;
  request: WriteBackRequest;
}

/** The mapping's toGoogle entries for the asked target fields; 400 naming any field that is not one. */
function writableFields(mapping: Mapping, asked: readonly string[]) {
  const byTarget = new Map(
    mapping.fieldMap.filter((f) => f.direction === 'toGoogle').map((f) => [f.target, f]),
  );
  const refused = asked.filter((t) => !byTarget.has(t));
  if (refused.length > 0)
    throw new ApiError(
      'invalid_argument',
      `not written back to Google by mapping ${mapping.name}: ${refused.join(', ')}`,
      refused.map((t) => ({ path: `fields.${t}`, message: 'not a toGoogle field of the mapping' })),
    );
  return asked.map((t) => byTarget.get(t)!);
}

const ORG_UNIT_FIELDS = new Set(['orgUnitPath', 'orgUnitId']);

/** The values write-back refuses before anything is sent: 400 naming each. */
function refuseInvalidValues(entries: FieldMapping[], fields: Record<string, string | null>) {
  const details: { path: string; message: string }[] = [];
  const ouFields = entries.filter((f) => ORG_UNIT_FIELDS.has(f.source));
  if (ouFields.length > 1)
    details.push({ path: 'fields', message: 'move the device once: by org unit path or by org unit id' });
  for (const f of entries) {
    const value = fields[f.target];
    const where = `fields.${f.target}`;
    if (f.source === 'notes' && (value === null || value === undefined || value.trim() === ''))
      details.push({ path: where, message: 'notes are appended at Google; send the text to add' });
    if (ORG_UNIT_FIELDS.has(f.source) && (value === null || value === undefined || value.trim() === ''))
      details.push({ path: where, message: 'a device is always in an org unit; name the one to move it to' });
    if (f.source === 'orgUnitPath' && value && !value.startsWith('/'))
      details.push({ path: where, message: 'an org unit path starts with /' });
  }
  if (details.length > 0)
    throw new ApiError('invalid_argument', details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
}

/** The mapping's template filled in, on a line of its own after what Google's notes already hold. */
export function appendNote(
  existing: unknown,
  template: string,
  note: { text: string; by: string; at: Date },
): string {
  const values: Record<string, string> = {
    text: note.text.trim(),
    by: note.by,
    date: note.at.toISOString().slice(0, 10),
  };
  const line = template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => values[name] ?? '');
  return typeof existing === 'string' && existing.trim() !== '' ? `${existing}\n${line}` : line;
}

export async function performWriteBack(
  ctx: Pick<RouteContext, 'app' | 'log'>,
  input: WriteBackInput,
): Promise<DeviceActionDoc> {
  const { app } = ctx;
  const { tenantId, objectId, recordId } = input;
  const record = await readRecord(app.db, tenantId, objectId, recordId);
  if (!record) throw notFound('record not found');
  const sync = (record.sync ?? {}) as SyncBlock;
  const mapping =
    typeof sync.mappingId === 'string' ? await readMapping(app.db, tenantId, sync.mappingId) : null;
  if (
    !mapping ||
    mapping.source !== 'google' ||
    mapping.entity !== 'chromeos' ||
    objectIdOf(mapping.target) !== objectId
  )
    throw new ApiError(
      'invalid_argument',
      'only records synced from Google Chrome OS devices can be written back',
    );
  const entries = writableFields(mapping, Object.keys(input.request.fields));
  refuseInvalidValues(entries, input.request.fields);
  if (sync.status === 'removed' || typeof sync.sourceId !== 'string' || sync.sourceId === '')
    throw new ApiError('failed_precondition', 'the device of this record is no longer synced');
  requireConnected(input.tenantRaw);
  requireGoogleScopes(input.tenantRaw, [CHROMEOS_MANAGE_SCOPE]);

  const google = await googleClientFor(app, tenantId);
  const deviceId = sync.sourceId;
  const unavailable = async (error: DeviceActionError): Promise<never> => {
    if (error.kind === 'reauthorize') throw await needsReauthorization(app, tenantId);
    if (error.kind === 'not_found') throw notFound('the device is no longer at Google');
    // A 400 refuses the values written (an unknown org unit id, a value too long): the caller can correct them.
    if (error.kind === 'other' && error.status === 400)
      throw new ApiError('invalid_argument', `Google refused the values: ${error.message}`);
    throw new ApiError('unavailable', `Google did not accept the request: ${error.message}`);
  };

  const current = await google.getChromeOsDevice(deviceId);
  if (!current.ok) return unavailable(current.error);
  // What the last sync saw is the record's stored value; Google holding anything else means an edit made there.
  // Appended notes keep Google's text, so an edit there is no conflict.
  const conflicts = entries.flatMap((f) => {
    if (f.source === 'notes') return [];
    const atGoogle = readPath(current.value, f.source);
    const stored = record.fields[f.target] ?? null;
    return atGoogle === stored ? [] : [{ field: f.target, google: atGoogle, stored }];
  });
  if (conflicts.length > 0)
    throw new ApiError(
      'conflict',
      `changed at Google since the last sync: ${conflicts.map((c) => c.field).join(', ')}`,
      [],
      {},
      { conflicts },
    );

  const patch: Record<string, string | null> = {};
  let orgUnitId: string | undefined;
  for (const f of entries) {
    const value = input.request.fields[f.target]!;
    // Devices carry the bare org unit id; org units answer with an "id:" prefix. Either is accepted, bare is sent.
    if (f.source === 'orgUnitId') orgUnitId = value!.trim().replace(/^id:/, '');
    else if (f.source === 'orgUnitPath') {
      const resolved = await google.orgUnitIdOfPath(value!.trim());
      if (!resolved.ok && resolved.error.kind === 'not_found')
        throw new ApiError('invalid_argument', `no org unit at ${value} in Google Workspace`, [
          { path: `fields.${f.target}`, message: 'no such org unit' },
        ]);
      if (!resolved.ok) return unavailable(resolved.error);
      orgUnitId = resolved.value.replace(/^id:/, '');
    } else if (f.source === 'notes') {
      patch.notes = appendNote(readPath(current.value, 'notes'), f.appendTemplate ?? DEFAULT_NOTES_TEMPLATE, {
        text: value!,
        by: input.requestedBy,
        at: new Date(app.clock.now()),
      });
    } else patch[f.source] = value;
  }
  const written = await google.updateChromeOsAnnotations(
    deviceId,
    patch as ChromeOsAnnotations,
    orgUnitId ? { orgUnitId } : {},
    'FULL',
  );
  if (!written.ok) return unavailable(written.error);

  const mapped = mapSourceObject(mapping, written.value);
  if (mapped.kind === 'record' && mapped.record.recordId === recordId) {
    const r = mapped.record;
    const now = new Date(app.clock.now()).toISOString();
    await replaceRecords(
      app.db,
      tenantId,
      objectId,
      [
        {
          id: recordId,
          body: {
            ...r.data,
            _sync: {
              ...(record.sync as Record<string, unknown>),
              status: r.status,
              inactiveReason: r.inactiveReason,
              hash: r.hash,
              updatedAt: now,
            },
          },
        },
      ],
      { source: 'write-back', runId: null, mappingId: mapping.id, by: input.requestedBy, at: now },
    );
    await setHashIndexEntry(app.db, tenantId, mapping.id, recordId, r.hash);
  } else {
    // Google's answer no longer maps to this record (moved out of scope, identifier changed): the next sync
    // sorts that out as for any change made at Google.
    ctx.log.warn('write-back: Google answer does not map to the record', { tenantId, objectId, recordId });
  }

  const googleAnswer: Record<string, unknown> = { deviceId };
  for (const f of entries) googleAnswer[f.source] = readPath(written.value, f.source);
  const now = app.clock.now();
  const action: DeviceActionDoc = {
    id: newRunId(now),
    tenantId,
    entity: 'chromeos',
    action: 'writeBack',
    deviceIds: [deviceId],
    fields: { ...patch, ...(orgUnitId ? { orgUnitId } : {}) },
    googleAnswer,
    requestedBy: input.requestedBy,
    requestedAt: new Date(now).toISOString(),
    results: [{ deviceId, ok: true }],
    succeeded: 1,
    failed: 0,
    refresh: { runs: [] },
  };
  await createDeviceAction(app.db, action);
  ctx.log.info('device write-back', { tenantId, actionId: action.id, deviceId, by: input.requestedBy });
  return action;
}
