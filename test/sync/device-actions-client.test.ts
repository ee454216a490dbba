import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  READONLY_DIRECTORY_SCOPES,
  SimulatorControl,
  startWorkspaceSimulator,
  type SimulatorHandle,
} from '../../emulators/workspace-simulator/index.js';
import { loadConfig, type RuntimeConfig } from '../../functions/src/platform/config.js';
import { GoogleDeviceActions } from '../../functions/src/sources/google/device-actions.js';
import { CHROMEOS_MANAGE_SCOPE, MOBILE_ACTION_SCOPE } from '../../shared/entities.js';
import { newOAuthClient } from '../../functions/src/sources/google/workspace-auth.js';
import { authorizeAgainstSimulator } from '../support/google-oauth.js';

let sim: SimulatorHandle;
let control: SimulatorControl;
let config: RuntimeConfig;
let customerId: string;
let adminEmail: string;

/** The production client over a refresh token obtained through the real OAuth flow with `scopes`. */
async function actionsWith(scopes: readonly string[]): Promise<GoogleDeviceActions> {
  const { refreshToken } = await authorizeAgainstSimulator(config, adminEmail, scopes);
  const auth = newOAuthClient(config);
  auth.setCredentials({ refresh_token: refreshToken });
  return new GoogleDeviceActions(config, auth);
}

beforeAll(async () => {
  sim = await startWorkspaceSimulator({ port: 0 });
  control = new SimulatorControl(sim.url);
  const ws = await control.createWorkspace({
    domain: 'client-devices.example',
    users: 10,
    chromeos: 0,
    mobile: 0,
  });
  customerId = ws.customerId;
  adminEmail = ws.adminEmail;
  config = loadConfig({ GOOGLE_CLOUD_PROJECT: 'device-actions-client', WORKSPACE_ENDPOINT: sim.url });
});

afterAll(async () => {
  await sim.close();
});

async function chromebooks(count: number, status: 'ACTIVE' | 'DISABLED' = 'ACTIVE'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = await control.addChromeOsDevice(customerId, {
      serialNumber: `C${status}${ids.length}-${Math.random()}`,
      status,
    });
    ids.push(d.deviceId as string);
  }
  return ids;
}

describe('GoogleDeviceActions against the simulator', () => {
  it('changes status in calls of at most 50 and reports each device', async () => {
    const actions = await actionsWith([...READONLY_DIRECTORY_SCOPES, CHROMEOS_MANAGE_SCOPE]);
    const ids = await chromebooks(60);
    const [disabledAlready] = await chromebooks(1, 'DISABLED');
    const route = 'directory.customer.devices.chromeos.batchChangeStatus';
    const calls = async () => (await control.getStats()).byRoute[route]?.total ?? 0;
    const before = await calls();
    const results = await actions.changeChromeOsStatus([...ids, disabledAlready!, 'ghost'], 'disable');
    expect((await calls()) - before).toBe(2);
    expect(results).toHaveLength(62);
    expect(results.slice(0, 60).every((r) => r.ok)).toBe(true);
    expect(results[60]).toMatchObject({
      deviceId: disabledAlready,
      ok: false,
      error: { kind: 'invalid_transition' },
    });
    expect(results[61]).toMatchObject({ deviceId: 'ghost', ok: false, error: { kind: 'not_found' } });
    expect((await control.getChromeOsDevice(customerId, ids[59]!)).status).toBe('DISABLED');

    const back = await actions.changeChromeOsStatus(ids.slice(0, 2), 'reenable');
    expect(back.map((r) => r.ok)).toEqual([true, true]);
    const gone = await actions.changeChromeOsStatus(
      [ids[0]!],
      'deprovision',
      'DEPROVISION_REASON_RETIRING_DEVICE',
    );
    expect(gone).toEqual([{ deviceId: ids[0], ok: true }]);
  });

  it('patches annotations and moves by orgUnitId only', async () => {
    const actions = await actionsWith([...READONLY_DIRECTORY_SCOPES, CHROMEOS_MANAGE_SCOPE]);
    const ou = await control.addOrgUnit(customerId, { name: 'Library' });
    const [id] = await chromebooks(1);
    await control.updateChromeOsDevice(customerId, id!, { notes: 'keep me' });
    const out = await actions.updateChromeOsAnnotations(
      id!,
      { annotatedAssetId: 'A-7', annotatedUser: null },
      { orgUnitId: ou.orgUnitId ?? '' },
    );
    expect(out).toMatchObject({ ok: true, value: { deviceId: id, orgUnitPath: '/Library' } });
    const stored = await control.getChromeOsDevice(customerId, id!);
    expect(stored).toMatchObject({ annotatedAssetId: 'A-7', notes: 'keep me', orgUnitPath: '/Library' });
    expect(stored).not.toHaveProperty('annotatedUser');

    const missing = await actions.updateChromeOsAnnotations('ghost', { notes: 'x' });
    expect(missing).toMatchObject({ ok: false, error: { kind: 'not_found' } });
  });

  it('runs mobile actions and maps an illegal transition', async () => {
    const actions = await actionsWith([...READONLY_DIRECTORY_SCOPES, MOBILE_ACTION_SCOPE]);
    const m = await control.addMobileDevice(customerId, {
      type: 'ANDROID',
      email: [adminEmail],
      status: 'PENDING',
    });
    const rid = m.resourceId as string;
    expect(await actions.mobileAction(rid, 'approve')).toEqual({ ok: true, value: undefined });
    expect((await control.getMobileDevice(customerId, rid)).status).toBe('APPROVED');
    expect(await actions.mobileAction(rid, 'cancel_remote_wipe_then_block')).toMatchObject({
      ok: false,
      error: { kind: 'invalid_transition' },
    });
  });

  it('names the missing scope when the grant is read-only', async () => {
    const actions = await actionsWith(READONLY_DIRECTORY_SCOPES);
    const ids = await chromebooks(2);
    const results = await actions.changeChromeOsStatus(ids, 'disable');
    expect(results.map((r) => r.error)).toEqual([
      expect.objectContaining({ kind: 'missing_scope', scope: CHROMEOS_MANAGE_SCOPE }),
      expect.objectContaining({ kind: 'missing_scope', scope: CHROMEOS_MANAGE_SCOPE }),
    ]);
    expect((await control.getChromeOsDevice(customerId, ids[0]!)).status).toBe('ACTIVE');
    expect(await actions.updateChromeOsAnnotations(ids[0]!, { notes: 'x' })).toMatchObject({
      ok: false,
      error: { kind: 'missing_scope', scope: CHROMEOS_MANAGE_SCOPE },
    });
    expect(await actions.mobileAction('whatever', 'block')).toMatchObject({
      ok: false,
      error: { kind: 'missing_scope', scope: MOBILE_ACTION_SCOPE },
    });
  });
});
