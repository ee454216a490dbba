import type { DirectoryCall } from './directory-handlers.js';
import { deviceProjection, requireOwnCustomer } from './directory-handlers.js';
import { renderChromeOs } from './device-resources.js';
import { badRequest, illegalTransition, invalidInput, invalidJsonValue, notFound } from './errors.js';
import type { ChromeOsRecord, ChromeOsStatus, MobileStatus, OrgUnitRecord } from './model.js';
import type { Workspace } from './workspace.js';

/**
 * Device writes: customer.devices.chromeos.batchChangeStatus, the deprecated chromeosdevices.action,
 * chromeosdevices.update/patch/moveDevicesToOu and mobiledevices.action. Enum values and limits come from the
 * discovery document and the REST reference; see README "Device management" for what is documented and what
 * is the simulator's choice.
 */

/** `deviceIds[]`: "Maximum 50." (BatchChangeChromeOsDeviceStatusRequest); moveDevicesToOu: "up to 50 devices". */
export const MAX_DEVICES_PER_CALL = 50;

export const CHROME_STATUS_ACTIONS = [
  'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DEPROVISION',
  'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DISABLE',
  'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_REENABLE',
] as const;
type ChromeStatusAction = (typeof CHROME_STATUS_ACTIONS)[number];

/** DeprovisionReason minus UNSPECIFIED and REPAIR_CENTER ("Can only be set by Repair Service Center"). */
export const DEPROVISION_REASONS = [
  'DEPROVISION_REASON_SAME_MODEL_REPLACEMENT',
  'DEPROVISION_REASON_UPGRADE',
  'DEPROVISION_REASON_DOMAIN_MOVE',
  'DEPROVISION_REASON_SERVICE_EXPIRATION',
  'DEPROVISION_REASON_OTHER',
  'DEPROVISION_REASON_DIFFERENT_MODEL_REPLACEMENT',
  'DEPROVISION_REASON_RETIRING_DEVICE',
  'DEPROVISION_REASON_UPGRADE_TRANSFER',
  'DEPROVISION_REASON_NOT_REQUIRED',
] as const;
const ALL_DEPROVISION_REASONS = new Set<string>([
  'DEPROVISION_REASON_UNSPECIFIED',
  ...DEPROVISION_REASONS,
  'DEPROVISION_REASON_REPAIR_CENTER',
]);

/** The older chromeosdevices.action's lowercase reasons (ChromeOsDeviceAction.deprovisionReason). */
const LEGACY_DEPROVISION_REASONS = new Set([
  'different_model_replacement',
  'retiring_device',
  'same_model_replacement',
  'upgrade_transfer',
]);

export const MOBILE_ACTIONS = [
  'admin_remote_wipe',
  'admin_account_wipe',
  'approve',
  'block',
  'cancel_remote_wipe_then_activate',
  'cancel_remote_wipe_then_block',
] as const;
type MobileAction = (typeof MOBILE_ACTIONS)[number];

/** google.rpc.Code values used in per-device results. */
const RPC_NOT_FOUND = 5;
const RPC_FAILED_PRECONDITION = 9;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function bodyObject(call: DirectoryCall): Record<string, unknown> {
  if (!isRecord(call.body)) throw badRequest('Invalid JSON payload received. Expected an object.');
  return call.body;
}

function deviceIdsOf(body: Record<string, unknown>, field: string): string[] {
  const ids = body['deviceIds'];
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string' && i !== '')) {
    throw invalidInput(`${field} must list at least one device id`);
  }
  if (ids.length > MAX_DEVICES_PER_CALL) {
    throw invalidInput(`${field} accepts at most ${MAX_DEVICES_PER_CALL} device ids, got ${ids.length}`);
  }
  return ids as string[];
}

/** The status an action leads to from `from`, or why it cannot. */
function chromeTransition(
  action: ChromeStatusAction,
  from: ChromeOsStatus,
): { to: ChromeOsStatus } | { refused: string } {
  switch (action) {
    case 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DISABLE':
      // "Use this action if a user loses their device": only a device in use can be disabled.
      return from === 'ACTIVE' ? { to: 'DISABLED' } : { refused: `a ${from} device cannot be disabled` };
    case 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_REENABLE':
      // "Reenables a ChromeOS device to be used after being disabled."
      return from === 'DISABLED'
        ? { to: 'ACTIVE' }
        : { refused: `only a DISABLED device can be re-enabled, this one is ${from}` };
    case 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DEPROVISION':
      // A deprovisioned device "must be wiped before it can be re-enrolled": deprovisioning twice is refused.
      return from === 'DEPROVISIONED'
        ? { refused: 'the device is already deprovisioned' }
        : { to: 'DEPROVISIONED' };
  }
}

function applyChromeStatus(ws: Workspace, d: ChromeOsRecord, to: ChromeOsStatus, reason?: string): void {
  ws.updateChromeOs(d.deviceId, {
    status: to,
    ...(to === 'DEPROVISIONED' && reason
      ? { overrides: { deprovisionReason: reason, lastDeprovisionTimestamp: new Date().toISOString() } }
      : {}),
  });
}

// ------------------------------------------------------------------ chromeos status

export function batchChangeChromeOsStatus(call: DirectoryCall, customer: string): Record<string, unknown> {
  const ws = requireOwnCustomer(call, customer);
  const body = bodyObject(call);
  const action = body['changeChromeOsDeviceStatusAction'];
  if (action === undefined || action === 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_UNSPECIFIED') {
    throw invalidInput('changeChromeOsDeviceStatusAction is required');
  }
  if (!CHROME_STATUS_ACTIONS.includes(action as ChromeStatusAction)) {
    throw invalidJsonValue('change_chrome_os_device_status_action', 'TYPE_ENUM', action);
  }
  const reason = body['deprovisionReason'];
  if (reason !== undefined && !ALL_DEPROVISION_REASONS.has(String(reason))) {
    throw invalidJsonValue('deprovision_reason', 'TYPE_ENUM', reason);
  }
  if (action === 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DEPROVISION') {
    if (reason === undefined || reason === 'DEPROVISION_REASON_UNSPECIFIED') {
      throw invalidInput('deprovisionReason is required to deprovision a device');
    }
    if (reason === 'DEPROVISION_REASON_REPAIR_CENTER') {
      throw invalidInput('DEPROVISION_REASON_REPAIR_CENTER can only be set by the Repair Service Center');
    }
  }
  const ids = deviceIdsOf(body, 'deviceIds');
  // Partial success is the normal case: every device gets its own result, in request order.
  const results = ids.map((deviceId) => {
    const d = ws.findChromeOs(deviceId);
    if (!d) return { deviceId, error: { code: RPC_NOT_FOUND, message: `Device ${deviceId} not found.` } };
    const step = chromeTransition(action as ChromeStatusAction, d.status);
    if ('refused' in step) {
      return {
        deviceId,
        error: {
          code: RPC_FAILED_PRECONDITION,
          message: `Illegal device state transition: ${step.refused}.`,
        },
      };
    }
    applyChromeStatus(ws, d, step.to, typeof reason === 'string' ? reason : undefined);
    return { deviceId, response: {} };
  });
  return { changeChromeOsDeviceStatusResults: results };
}

/** Deprecated chromeosdevices.action: one device, lowercase actions, errors as HTTP statuses. */
export function chromeOsAction(call: DirectoryCall, customer: string, resourceId: string): null {
  const ws = requireOwnCustomer(call, customer);
  const body = bodyObject(call);
  const legacy: Record<string, ChromeStatusAction> = {
    disable: 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DISABLE',
    reenable: 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_REENABLE',
    deprovision: 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DEPROVISION',
  };
  const action = legacy[String(body['action'])];
  // pre_provisioned_disable / pre_provisioned_reenable are documented but not modelled here.
  if (!action) throw invalidInput(`unsupported action ${JSON.stringify(body['action'])}`);
  const reason = body['deprovisionReason'];
  if (
    action === 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DEPROVISION' &&
    !LEGACY_DEPROVISION_REASONS.has(String(reason))
  ) {
    throw invalidInput('deprovisionReason');
  }
  const d = ws.findChromeOs(resourceId);
  if (!d) throw notFound('Resource Not Found: resourceId');
  const step = chromeTransition(action, d.status);
  if ('refused' in step) throw illegalTransition(step.refused);
  applyChromeStatus(ws, d, step.to, typeof reason === 'string' ? reason : undefined);
  return null;
}

// ------------------------------------------------------------------ chromeos annotations and org unit

/** The fields update/patch write ("updatable properties, such as annotatedUser, ..."); the rest is read-only. */
const ANNOTATION_FIELDS = ['annotatedAssetId', 'annotatedLocation', 'annotatedUser', 'notes'] as const;

const bareOuId = (id: string) => id.replace(/^id:/, '');

function orgUnitById(ws: Workspace, id: string): OrgUnitRecord | undefined {
  const ou = ws.orgUnit(`id:${bareOuId(id.trim())}`);
  return ou;
}

/** Answer of Google's users API to an unknown org unit; reused here for devices (not documented for them). */
const invalidOu = () => invalidInput('INVALID_OU_ID');

/**
 * Which org unit the body asks for, if any. Both given and disagreeing is the 400 GAM users know as
 * "Inconsistent Orgunit id and path in request - <id>, <path>" (taers232c/GAMADV-XTD3#225, GAM-team/GAM#107).
 */
function targetOrgUnit(ws: Workspace, body: Record<string, unknown>): OrgUnitRecord | undefined {
  const path = body['orgUnitPath'];
  const id = body['orgUnitId'];
  if (path !== undefined && typeof path !== 'string') throw invalidInput('orgUnitPath');
  if (id !== undefined && typeof id !== 'string') throw invalidInput('orgUnitId');
  const byId = id ? orgUnitById(ws, id) : undefined;
  const byPath = path ? ws.resolveOrgUnit(path.startsWith('/') ? path : `/${path}`) : undefined;
  if (id && path) {
    if (!byId || !byPath || byId !== byPath) {
      throw invalidInput(`Inconsistent Orgunit id and path in request - ${bareOuId(id)}, ${path}`);
    }
    return byId;
  }
  if (id)
    return (
      byId ??
      (() => {
        throw invalidOu();
      })()
    );
  if (path)
    return (
      byPath ??
      (() => {
        throw invalidOu();
      })()
    );
  return undefined;
}

/**
 * chromeosdevices.update (PUT) and .patch (PATCH). PATCH writes only the fields present (null clears one);
 * PUT replaces every writable annotation, so an absent one is cleared. Neither moves the device unless an org
 * unit is named. Read-only fields in the body are ignored, as Google ignores them.
 */
export function writeChromeOs(
  call: DirectoryCall,
  customer: string,
  deviceId: string,
  mode: 'update' | 'patch',
): Record<string, unknown> {
  const ws = requireOwnCustomer(call, customer);
  const d = ws.findChromeOs(deviceId);
  if (!d) throw notFound('Resource Not Found: deviceId');
  const body = bodyObject(call);
  const changes: Partial<Record<(typeof ANNOTATION_FIELDS)[number], string | null>> = {};
  for (const field of ANNOTATION_FIELDS) {
    const value = body[field];
    if (value === undefined) {
      if (mode === 'update') changes[field] = null;
      continue;
    }
    if (value !== null && typeof value !== 'string') throw invalidInput(field);
    // Google omits empty fields, so an empty string reads back as "not set".
    changes[field] = value === '' ? null : value;
  }
  const ou = targetOrgUnit(ws, body);
  const updated = ws.updateChromeOs(d.deviceId, {
    ...changes,
    ...(ou ? { orgUnitPath: ou.orgUnitId } : {}),
  });
  return renderChromeOs(ws, updated, deviceProjection(call.params)) as Record<string, unknown>;
}

/** chromeosdevices.moveDevicesToOu: `orgUnitPath` (a path or an id) in the query, `{deviceIds}` in the body. */
export function moveChromeOsToOu(call: DirectoryCall, customer: string): null {
  const ws = requireOwnCustomer(call, customer);
  const ref = call.params.get('orgUnitPath');
  if (!ref) throw invalidInput('orgUnitPath is required');
  const ou = ws.resolveOrgUnit(ref) ?? (ref.startsWith('/') ? undefined : ws.resolveOrgUnit(`/${ref}`));
  if (!ou) throw invalidOu();
  const ids = deviceIdsOf(bodyObject(call), 'deviceIds');
  // All or nothing: an unknown id fails the call before any device moves.
  const missing = ids.find((id) => !ws.findChromeOs(id));
  if (missing) throw invalidInput(`Device ID not found: ${missing}`);
  for (const id of ids) ws.updateChromeOs(id, { orgUnitPath: ou.orgUnitId });
  return null;
}

// ------------------------------------------------------------------ mobile

function mobileTransition(
  action: MobileAction,
  from: MobileStatus,
): { to: MobileStatus } | { refused: string } {
  const wiping = from === 'WIPING' || from === 'ACCOUNT_WIPING';
  switch (action) {
    case 'approve':
      return wiping ? { refused: `cancel the pending wipe first (device is ${from})` } : { to: 'APPROVED' };
    case 'block':
      return wiping ? { refused: `cancel the pending wipe first (device is ${from})` } : { to: 'BLOCKED' };
    case 'admin_remote_wipe':
      return { to: 'WIPING' };
    case 'admin_account_wipe':
      return from === 'WIPING' ? { refused: 'a full wipe is already pending' } : { to: 'ACCOUNT_WIPING' };
    case 'cancel_remote_wipe_then_activate':
      return wiping ? { to: 'APPROVED' } : { refused: `no wipe is pending (device is ${from})` };
    case 'cancel_remote_wipe_then_block':
      return wiping ? { to: 'BLOCKED' } : { refused: `no wipe is pending (device is ${from})` };
  }
}

export function mobileAction(call: DirectoryCall, customer: string, resourceId: string): null {
  const ws = requireOwnCustomer(call, customer);
  const action = bodyObject(call)['action'];
  if (!MOBILE_ACTIONS.includes(action as MobileAction)) {
    throw invalidInput(`action ${JSON.stringify(action ?? null)} is not one of ${MOBILE_ACTIONS.join(', ')}`);
  }
  const d = ws.findMobile(resourceId);
  if (!d) throw notFound('Resource Not Found: resourceId');
  const step = mobileTransition(action as MobileAction, d.status);
  if ('refused' in step) throw illegalTransition(step.refused);
  ws.updateMobile(resourceId, { status: step.to });
  return null;
}
