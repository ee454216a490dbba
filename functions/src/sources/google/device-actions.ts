import type { OAuth2Client } from 'google-auth-library';
import { lazyDirectoryClient, type admin_directory_v1 } from './directory-client.js';
import { z } from 'zod';
import type { RuntimeConfig } from '../../platform/config.js';
import { CHROMEOS_MANAGE_SCOPE, DIRECTORY_SCOPES, MOBILE_ACTION_SCOPE } from '../../../../shared/entities.js';
import { classifyDirectoryError } from './directory-errors.js';

/**
 * Device write-back to Google: Chrome OS status changes (customer.devices.chromeos.batchChangeStatus),
 * Chrome OS annotations and org unit (chromeosdevices.patch), mobile device actions (mobiledevices.action).
 * Every function answers with a closed union instead of throwing, so callers can show per-device outcomes.
 */

/** BatchChangeChromeOsDeviceStatusRequest.deviceIds: "Maximum 50." */
export const MAX_DEVICES_PER_STATUS_CALL = 50;

export type ChromeOsStatusAction = 'disable' | 'reenable' | 'deprovision';
const STATUS_ACTION_ENUM: Record<ChromeOsStatusAction, string> = {
  disable: 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DISABLE',
  reenable: 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_REENABLE',
  deprovision: 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DEPROVISION',
};

/** DeprovisionReason values an admin may choose (UNSPECIFIED and REPAIR_CENTER are not theirs to set). */
export type DeprovisionReason =
  | 'DEPROVISION_REASON_SAME_MODEL_REPLACEMENT'
  | 'DEPROVISION_REASON_DIFFERENT_MODEL_REPLACEMENT'
  | 'DEPROVISION_REASON_RETIRING_DEVICE'
  | 'DEPROVISION_REASON_UPGRADE_TRANSFER'
  | 'DEPROVISION_REASON_UPGRADE'
  | 'DEPROVISION_REASON_DOMAIN_MOVE'
  | 'DEPROVISION_REASON_SERVICE_EXPIRATION'
  | 'DEPROVISION_REASON_NOT_REQUIRED'
  | 'DEPROVISION_REASON_OTHER';

export type MobileDeviceAction =
  | 'admin_remote_wipe'
  | 'admin_account_wipe'
  | 'approve'
  | 'block'
  | 'cancel_remote_wipe_then_activate'
  | 'cancel_remote_wipe_then_block';

export type DeviceActionError =
  | { kind: 'missing_scope'; scope: string; message: string }
  /** Google no longer honours the tenant's grant (invalid_grant): nothing more can be sent until it reconnects. */
  | { kind: 'reauthorize'; message: string }
  | { kind: 'not_found'; message: string }
  | { kind: 'invalid_transition'; message: string }
  | { kind: 'retryable'; message: string }
  | { kind: 'other'; status: number | null; message: string };

export interface DeviceResult {
  deviceId: string;
  ok: boolean;
  error?: DeviceActionError;
}

export type ActionOutcome<T = undefined> = { ok: true; value: T } | { ok: false; error: DeviceActionError };

export interface ChromeOsAnnotations {
  annotatedAssetId?: string | null;
  annotatedLocation?: string | null;
  annotatedUser?: string | null;
  notes?: string | null;
}

// Loose validation: Google adds fields over time; only what we read is checked.
const batchResponse = z
  .object({
    changeChromeOsDeviceStatusResults: z
      .array(
        z
          .object({
            deviceId: z.string(),
            error: z
              .object({ code: z.number().optional(), message: z.string().optional() })
              .loose()
              .optional(),
            response: z.record(z.string(), z.unknown()).optional(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();

const chromeOsDevice = z
  .object({ deviceId: z.string(), orgUnitPath: z.string().optional(), orgUnitId: z.string().optional() })
  .loose();
export type WrittenChromeOsDevice = z.infer<typeof chromeOsDevice>;

/** google.rpc.Code of a per-device result. */
const RPC = { NOT_FOUND: 5, FAILED_PRECONDITION: 9, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;

function perDeviceError(code: number | undefined, message: string): DeviceActionError {
  if (code === RPC.NOT_FOUND) return { kind: 'not_found', message };
  if (code === RPC.FAILED_PRECONDITION) return { kind: 'invalid_transition', message };
  if (code === RPC.RESOURCE_EXHAUSTED || code === RPC.UNAVAILABLE) return { kind: 'retryable', message };
  return { kind: 'other', status: null, message };
}

/** Maps a thrown googleapis error onto the union; `scope` names what a scope refusal was missing. */
export function mapDeviceActionError(err: unknown, scope: string): DeviceActionError {
  const c = classifyDirectoryError(err);
  switch (c.kind) {
    case 'retryable':
      return { kind: 'retryable', message: `${c.status ?? 'network'} ${c.reason}` };
    case 'invalid_grant':
      return { kind: 'reauthorize', message: 'invalid_grant: the tenant must re-authorize' };
    case 'forbidden':
      if (c.reason === 'insufficientPermissions' || /insufficient authentication scopes/i.test(c.message)) {
        return { kind: 'missing_scope', scope, message: c.message };
      }
      return { kind: 'other', status: c.status, message: c.message };
    case 'fatal':
      if (c.status === 404) return { kind: 'not_found', message: c.message };
      // The per-device action methods refuse a state change with 412 conditionNotMet.
      if (c.status === 412 || c.reason === 'conditionNotMet')
        return { kind: 'invalid_transition', message: c.message };
      return { kind: 'other', status: c.status, message: c.message };
  }
}

type Auth = OAuth2Client;

export class GoogleDeviceActions {
  private readonly admin: () => Promise<admin_directory_v1.Admin>;
  // Callers own retries (a status change must not be replayed blindly).
  private readonly opts = { retry: false };

  constructor(config: RuntimeConfig, auth: Auth) {
    this.admin = lazyDirectoryClient(config, auth);
  }

  /**
   * Changes the status of any number of Chrome OS devices, in calls of at most 50. Each device gets its own
   * result; a call-level failure (missing scope, rate limit) marks that call's devices and every later one,
   * since later calls would fail the same way.
   */
  async changeChromeOsStatus(
    deviceIds: readonly string[],
    action: ChromeOsStatusAction,
    reason?: DeprovisionReason,
  ): Promise<DeviceResult[]> {
    if (action === 'deprovision' && !reason) throw new Error('deprovisioning needs a DeprovisionReason');
    const out: DeviceResult[] = [];
    for (let i = 0; i < deviceIds.length; i += MAX_DEVICES_PER_STATUS_CALL) {
      const chunk = deviceIds.slice(i, i + MAX_DEVICES_PER_STATUS_CALL);
      let data: unknown;
      try {
        const res = await (
          await this.admin()
        ).customer.devices.chromeos.batchChangeStatus(
          {
            customerId: 'my_customer',
            requestBody: {
              deviceIds: [...chunk],
              changeChromeOsDeviceStatusAction: STATUS_ACTION_ENUM[action],
              ...(action === 'deprovision' ? { deprovisionReason: reason } : {}),
            },
          },
          this.opts,
        );
        data = res.data;
      } catch (err) {
        const error = mapDeviceActionError(err, CHROMEOS_MANAGE_SCOPE);
        for (const deviceId of deviceIds.slice(i)) out.push({ deviceId, ok: false, error });
        return out;
      }
      const parsed = batchResponse.parse(data);
      const byId = new Map((parsed.changeChromeOsDeviceStatusResults ?? []).map((r) => [r.deviceId, r]));
      for (const deviceId of chunk) {
        const r = byId.get(deviceId);
        if (!r) {
          out.push({
            deviceId,
            ok: false,
            error: { kind: 'other', status: null, message: 'no result for device' },
          });
        } else if (r.error) {
          out.push({ deviceId, ok: false, error: perDeviceError(r.error.code, r.error.message ?? '') });
        } else {
          out.push({ deviceId, ok: true });
        }
      }
    }
    return out;
  }

  /**
   * PATCHes annotations (null clears a field) and, with `orgUnitId`, moves the device. Always by id: a path
   * can be renamed under us, and sending both invites Google's "Inconsistent Orgunit id and path" 400.
   */
  async updateChromeOsAnnotations(
    deviceId: string,
    fields: ChromeOsAnnotations,
    move: { orgUnitId?: string } = {},
    /** FULL when the answer is mapped like a synced device (the sync lists with FULL). */
    projection: 'BASIC' | 'FULL' = 'BASIC',
  ): Promise<ActionOutcome<WrittenChromeOsDevice>> {
    try {
      const res = await (
        await this.admin()
      ).chromeosdevices.patch(
        {
          customerId: 'my_customer',
          deviceId,
          projection,
          requestBody: {
            ...fields,
            ...(move.orgUnitId ? { orgUnitId: move.orgUnitId.replace(/^id:/, '') } : {}),
          },
        },
        this.opts,
      );
      return { ok: true, value: chromeOsDevice.parse(res.data) };
    } catch (err) {
      return { ok: false, error: mapDeviceActionError(err, CHROMEOS_MANAGE_SCOPE) };
    }
  }

  /**
   * The id of the org unit at `path` (orgunits.get), so a move can be sent by id. Google takes the path without
   * its leading slash in the URL; the root is "/".
   */
  async orgUnitIdOfPath(path: string): Promise<ActionOutcome<string>> {
    try {
      const res = await (
        await this.admin()
      ).orgunits.get(
        { customerId: 'my_customer', orgUnitPath: path === '/' ? '/' : path.replace(/^\//, '') },
        this.opts,
      );
      const id = z
        .object({ orgUnitId: z.string().min(1) })
        .loose()
        .parse(res.data).orgUnitId;
      return { ok: true, value: id };
    } catch (err) {
      return { ok: false, error: mapDeviceActionError(err, DIRECTORY_SCOPES.orgunit) };
    }
  }

  /** One Chrome OS device by its Directory id, as the sync sees it (FULL projection). */
  async getChromeOsDevice(deviceId: string): Promise<ActionOutcome<WrittenChromeOsDevice>> {
    try {
      const res = await (
        await this.admin()
      ).chromeosdevices.get({ customerId: 'my_customer', deviceId, projection: 'FULL' }, this.opts);
      return { ok: true, value: chromeOsDevice.parse(res.data) };
    } catch (err) {
      return { ok: false, error: mapDeviceActionError(err, CHROMEOS_MANAGE_SCOPE) };
    }
  }

  async mobileAction(resourceId: string, action: MobileDeviceAction): Promise<ActionOutcome> {
    try {
      await (
        await this.admin()
      ).mobiledevices.action({ customerId: 'my_customer', resourceId, requestBody: { action } }, this.opts);
      return { ok: true, value: undefined };
    } catch (err) {
      return { ok: false, error: mapDeviceActionError(err, MOBILE_ACTION_SCOPE) };
    }
  }
}
