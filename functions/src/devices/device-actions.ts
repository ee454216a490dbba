import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CHROMEOS_MANAGE_SCOPE, MOBILE_ACTION_SCOPE } from '../../../shared/entities.js';
import { ApiError } from '../api/api-error.js';
import { requestRefresh } from '../api/request-refresh.js';
import type { RouteContext } from '../api/route-context.js';
import type { App } from '../app.js';
import { newRunId } from '../engine/run-id.js';
import {
  GoogleDeviceActions,
  type DeviceActionError,
  type DeviceResult,
} from '../sources/google/device-actions.js';
import { REAUTH_REASON } from '../sources/google/connection-check.js';
import { classifyDirectoryError } from '../sources/google/directory-errors.js';
import { requireGoogleScopes } from '../sources/google/require-scopes.js';
import { NotConnectedError } from '../sources/google/workspace-auth.js';
import {
  claimIdempotencyKey,
  createDeviceAction,
  releaseIdempotencyKey,
  type DeviceActionDoc,
  type DeviceActionResult,
} from '../store/device-actions.js';
import { listEnabledMappings } from '../store/mappings.js';
import { markNeedsReauthorization } from '../store/tenants.js';

/**
 * Device actions asked for from the product (disable a lost Chromebook, wipe a phone): checked, sent to Google
 * with the tenant's authorization, recorded as an audit document, and followed by a sync of the tenant's
 * mappings of that entity so the mirror shows the new status within seconds.
 */

export const MAX_DEVICES_PER_ACTION = 100;

/** Google's DeprovisionReason values an admin may choose (UNSPECIFIED and REPAIR_CENTER are not theirs). */
export const DEPROVISION_REASONS = [
  'DEPROVISION_REASON_SAME_MODEL_REPLACEMENT',
  'DEPROVISION_REASON_DIFFERENT_MODEL_REPLACEMENT',
  'DEPROVISION_REASON_RETIRING_DEVICE',
  'DEPROVISION_REASON_UPGRADE_TRANSFER',
  'DEPROVISION_REASON_UPGRADE',
  'DEPROVISION_REASON_DOMAIN_MOVE',
  'DEPROVISION_REASON_SERVICE_EXPIRATION',
  'DEPROVISION_REASON_NOT_REQUIRED',
  'DEPROVISION_REASON_OTHER',
] as const;

/** Actions that cannot be undone: the request must carry the confirmation phrase. */
export const DESTRUCTIVE_ACTIONS: readonly string[] = [
  'deprovision',
  'admin_account_wipe',
  'admin_remote_wipe',
];

const deviceIds = z
  .array(z.string().min(1).max(200))
  .min(1)
  .max(MAX_DEVICES_PER_ACTION)
  .refine((ids) => new Set(ids).size === ids.length, 'device ids must be unique');

const chromeOsRequest = z
  .strictObject({
    entity: z.literal('chromeos'),
    action: z.enum(['disable', 'reenable', 'deprovision', 'move']),
    deviceIds,
    deprovisionReason: z.enum(DEPROVISION_REASONS).optional(),
    orgUnitId: z.string().min(1).max(200).optional(),
    confirm: z.string().max(200).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.action === 'deprovision' && !r.deprovisionReason)
      ctx.addIssue({ code: 'custom', path: ['deprovisionReason'], message: 'required to deprovision' });
    if (r.action !== 'deprovision' && r.deprovisionReason)
      ctx.addIssue({ code: 'custom', path: ['deprovisionReason'], message: 'only for deprovision' });
    if (r.action === 'move' && !r.orgUnitId)
      ctx.addIssue({ code: 'custom', path: ['orgUnitId'], message: 'required to move (the org unit ID)' });
    if (r.action !== 'move' && r.orgUnitId)
      ctx.addIssue({ code: 'custom', path: ['orgUnitId'], message: 'only for move' });
  });

const mobileRequest = z.strictObject({
  entity: z.literal('mobile'),
  action: z.enum([
    'approve',
    'block',
    'admin_account_wipe',
    'admin_remote_wipe',
    'cancel_remote_wipe_then_activate',
    'cancel_remote_wipe_then_block',
  ]),
  deviceIds,
  confirm: z.string().max(200).optional(),
});

export const deviceActionRequestSchema = z.discriminatedUnion('entity', [chromeOsRequest, mobileRequest]);
export type DeviceActionRequest = z.infer<typeof deviceActionRequestSchema>;

/** An Idempotency-Key header value: 8..200 characters of [A-Za-z0-9._:-]. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{8,200}$/, '8-200 of A-Z a-z 0-9 . _ : -');

/** What a destructive request must carry in `confirm`: "deprovision 3 devices", "admin_remote_wipe 1 device". */
export function confirmationPhrase(action: string, count: number): string {
  return `${action} ${count} ${count === 1 ? 'device' : 'devices'}`;
}

function checkConfirmation(req: DeviceActionRequest): void {
  if (!DESTRUCTIVE_ACTIONS.includes(req.action)) return;
  const expected = confirmationPhrase(req.action, req.deviceIds.length);
  if (req.confirm === expected) return;
  throw new ApiError(
    'invalid_argument',
    `${req.action} cannot be undone: confirm with "${expected}"`,
    [{ path: 'confirm', message: `must be "${expected}"` }],
    {},
    { expectedConfirmation: expected },
  );
}

const scopeFor = (req: DeviceActionRequest) =>
  req.entity === 'chromeos' ? CHROMEOS_MANAGE_SCOPE : MOBILE_ACTION_SCOPE;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** JSON with sorted keys: the same request hashes the same whatever order its fields came in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The tenant's Google client, with a fresh access token in hand before anything is sent: a tenant that is not
 * connected, or whose grant Google no longer honours, is refused (409) with nothing changed at Google.
 */
export async function googleClientFor(app: App, tenantId: string): Promise<GoogleDeviceActions> {
  try {
    const auth = await app.auth.clientFor(tenantId);
    await auth.getAccessToken();
    return new GoogleDeviceActions(app.config, auth);
  } catch (err) {
    if (err instanceof NotConnectedError)
      throw new ApiError('failed_precondition', 'connect Google Workspace before managing devices');
    if (classifyDirectoryError(err).kind === 'invalid_grant') throw await needsReauthorization(app, tenantId);
    throw new ApiError('unavailable', 'Google Workspace did not answer; try again');
  }
}

/** Google refused the grant: the tenant's syncs stop exactly as a failing sync would stop them. */
export async function needsReauthorization(app: App, tenantId: string): Promise<ApiError> {
  app.auth.forget(tenantId);
  await markNeedsReauthorization(app.db, tenantId, REAUTH_REASON, new Date(app.clock.now()));
  app.log.warn('device action found the authorization revoked', { tenantId });
  return new ApiError(
    'failed_precondition',
    'Google rejected the stored authorization; re-authorize the connection',
  );
}

/** A tenant waiting for reauthorization holds no usable scopes: say so, rather than "missing scopes". */
export function requireConnected(tenant: { connection?: unknown }): void {
  const state = (tenant.connection as { state?: unknown } | null | undefined)?.state;
  if (state === 'connected') return;
  throw new ApiError(
    'failed_precondition',
    state === 'needs_reauth'
      ? 'Google rejected the stored authorization; re-authorize the connection'
      : 'connect Google Workspace before managing devices',
  );
}

/** At most this many per-device calls (moves, mobile actions) are in flight at once. */
const PER_DEVICE_CONCURRENCY = 5;

async function eachDevice(
  ids: readonly string[],
  call: (id: string) => Promise<{ ok: true } | { ok: false; error: DeviceActionError }>,
): Promise<DeviceResult[]> {
  const out: DeviceResult[] = new Array<DeviceResult>(ids.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      const outcome = await call(ids[i]!);
      out[i] = outcome.ok
        ? { deviceId: ids[i]!, ok: true }
        : { deviceId: ids[i]!, ok: false, error: outcome.error };
    }
  };
  await Promise.all(Array.from({ length: Math.min(PER_DEVICE_CONCURRENCY, ids.length) }, worker));
  return out;
}

function sendToGoogle(google: GoogleDeviceActions, req: DeviceActionRequest): Promise<DeviceResult[]> {
  if (req.entity === 'mobile') return eachDevice(req.deviceIds, (id) => google.mobileAction(id, req.action));
  if (req.action === 'move') {
    const orgUnitId = req.orgUnitId!;
    return eachDevice(req.deviceIds, (id) => google.updateChromeOsAnnotations(id, {}, { orgUnitId }));
  }
  return google.changeChromeOsStatus(req.deviceIds, req.action, req.deprovisionReason);
}

/** Google's answer per device as the API shows it: a kind the console can act on and Google's message. */
const resultView = (r: DeviceResult): DeviceActionResult =>
  r.ok
    ? { deviceId: r.deviceId, ok: true }
    : {
        deviceId: r.deviceId,
        ok: false,
        error: { kind: r.error?.kind ?? 'other', message: r.error?.message ?? 'failed' },
      };

/**
 * The tenant's enabled mappings of the entity, synced now. The devices have changed at Google whatever
 * happens here, so a full rate-limit window or a failed publish costs only the early refresh (the next
 * scheduled sync shows the change): it is logged, not answered as an error.
 */
async function refreshMirror(
  ctx: Pick<RouteContext, 'app' | 'api' | 'log'>,
  tenantId: string,
  entity: DeviceActionRequest['entity'],
): Promise<DeviceActionDoc['refresh']> {
  const mappings = (await listEnabledMappings(ctx.app.db, tenantId)).filter(
    (m) => m.source === 'google' && m.entity === entity,
  );
  if (mappings.length === 0) return { runs: [] };
  try {
    const runs = await requestRefresh(
      ctx,
      tenantId,
      mappings.map((m) => m.id),
    );
    return { runs };
  } catch (err) {
    ctx.log.warn('device action: the refresh sync was not started', {
      tenantId,
      error: err instanceof Error ? err.message : String(err),
    });
    return { runs: [] };
  }
}

export interface DeviceActionInput {
  tenantId: string;
  /** The tenant document as stored (TenantScope.raw): its connection's scopes decide what may be sent. */
  tenantRaw: { connection?: unknown };
  requestedBy: string;
  request: DeviceActionRequest;
  idempotencyKey: string | undefined;
}

export interface DeviceActionOutcome {
  action: DeviceActionDoc;
  /** The answer is the one a first request with the same Idempotency-Key got; Google was not called. */
  replayed: boolean;
}

/**
 * One device action (its body already parsed with deviceActionRequestSchema), in the order that keeps a refused
 * request from changing anything: the confirmation phrase and the Google scopes are checked before the
 * Idempotency-Key is claimed and before Google is called.
 */
export async function performDeviceAction(
  ctx: Pick<RouteContext, 'app' | 'api' | 'log'>,
  input: DeviceActionInput,
): Promise<DeviceActionOutcome> {
  const { app } = ctx;
  const { tenantId, request: req } = input;
  checkConfirmation(req);
  requireConnected(input.tenantRaw);
  requireGoogleScopes(input.tenantRaw, [scopeFor(req)]);

  const now = app.clock.now();
  const key = input.idempotencyKey
    ? { keyHash: sha256(`${tenantId}\n${input.idempotencyKey}`), requestHash: sha256(canonical(req)) }
    : null;
  if (key) {
    const claim = await claimIdempotencyKey(app.db, tenantId, key.keyHash, key.requestHash, now);
    if (claim.kind === 'replay') return { action: claim.answer, replayed: true };
    if (claim.kind === 'different_request')
      throw new ApiError('conflict', 'this Idempotency-Key was already used for a different request');
    if (claim.kind === 'in_progress')
      throw new ApiError('conflict', 'a request with this Idempotency-Key is still in progress; retry later');
  }

  let sent = false;
  try {
    const google = await googleClientFor(app, tenantId);
    sent = true;
    const sentResults = await sendToGoogle(google, req);
    const revoked = sentResults.some((r) => r.error?.kind === 'reauthorize');
    // Revoked between the token check and the call (a cached access token): if nothing happened at all, the
    // answer is the same 409 as a revoke found before; otherwise what happened is recorded as usual.
    if (revoked && sentResults.every((r) => !r.ok)) {
      sent = false;
      throw await needsReauthorization(app, tenantId);
    }
    if (revoked) await needsReauthorization(app, tenantId);
    const results = sentResults.map(resultView);
    const succeeded = results.filter((r) => r.ok).length;
    const refresh = succeeded > 0 ? await refreshMirror(ctx, tenantId, req.entity) : { runs: [] };
    const action: DeviceActionDoc = {
      // Sortable by time like run ids, so the audit trail reads in order.
      id: newRunId(now),
      tenantId,
      entity: req.entity,
      action: req.action,
      deviceIds: req.deviceIds,
      ...(req.entity === 'chromeos' && req.deprovisionReason
        ? { deprovisionReason: req.deprovisionReason }
        : {}),
      ...(req.entity === 'chromeos' && req.orgUnitId ? { orgUnitId: req.orgUnitId } : {}),
      requestedBy: input.requestedBy,
      requestedAt: new Date(now).toISOString(),
      ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
      results,
      succeeded,
      failed: results.length - succeeded,
      refresh,
    };
    await createDeviceAction(app.db, action, key ? { keyHash: key.keyHash } : undefined);
    ctx.log.info('device action', {
      tenantId,
      actionId: action.id,
      entity: action.entity,
      action: action.action,
      by: action.requestedBy,
      succeeded,
      failed: action.failed,
    });
    return { action, replayed: false };
  } catch (err) {
    // Refused before Google was called: a retry with the key may try again at once. After Google was called the
    // claim stays (in progress) so that a quick retry cannot repeat the action.
    if (key && !sent) await releaseIdempotencyKey(app.db, tenantId, key.keyHash).catch(() => undefined);
    throw err;
  }
}
