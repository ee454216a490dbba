import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import {
  rejectedUnchanged,
  startApiHarness,
  usersMapping,
  withoutWrites,
  type ApiHarness,
} from './api-harness.js';

let h: ApiHarness;
let owner: string;
let viewer: string;

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
  viewer = await h.signIn(await h.addUser('vic.viewer@school.example'));
});
afterAll(async () => {
  await h?.close();
});

const BATCH_ROUTE = 'directory.customer.devices.chromeos.batchChangeStatus';
const googleCalls = async (prefix: string) =>
  Object.entries((await h.control.getStats()).byRoute)
    .filter(([route]) => route.startsWith(prefix))
    .reduce((n, [, s]) => n + (s?.total ?? 0), 0);

let seq = 0;
/**
 * A connected tenant owned by the workspace admin, with a viewer and a Chrome OS mapping; `devices` turns
 * device management on through Google's (simulated) consent, so the stored token holds the manage scopes.
 */
async function tenant(opts: { devices: boolean }): Promise<{ t: string; chromeosMapping: string }> {
  const t = `act-${++seq}`;
  await h.createTenant(t, h.ws.adminEmail);
  await h.addMember(t, 'vic.viewer@school.example', 'viewer');
  await h.request('POST', `/api/tenants/${t}/mappings`, { token: owner, body: usersMapping() });
  const mapping = await h.request('POST', `/api/tenants/${t}/mappings`, {
    token: owner,
    body: {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'deviceId',
      target: { kind: 'collection', objectId: 'chromebooks' },
      fieldMap: [
        { source: 'deviceId', target: 'deviceId' },
        { source: 'status', target: 'status' },
      ],
    },
  });
  expect(mapping.status, mapping.text).toBe(201);
  expect((await h.connect(t, owner)).searchParams.get('connected')).toBe('1');
  if (opts.devices) {
    const cb = await h.enableDeviceManagement(t, owner);
    expect(cb.toString()).toContain('deviceManagement=on');
  }
  await h.pullSyncMessages();
  return { t, chromeosMapping: mapping.body.id as string };
}

let serial = 0;
async function chromebook(status: 'ACTIVE' | 'DISABLED' = 'ACTIVE'): Promise<string> {
  const d = await h.control.addChromeOsDevice(h.ws.customerId, { serialNumber: `ACT${++serial}`, status });
  return d.deviceId as string;
}
const chromeStatus = async (id: string) => (await h.control.getChromeOsDevice(h.ws.customerId, id)).status;

const act = (t: string, body: unknown, opts: { token?: string; key?: string } = {}) =>
  h.request('POST', `/api/tenants/${t}/devices/actions`, {
    token: opts.token ?? owner,
    body,
    ...(opts.key ? { headers: { 'idempotency-key': opts.key } } : {}),
  });
const auditDoc = async (t: string, id: string) => (await h.db.doc(paths.deviceAction(t, id)).get()).data();

describe('POST /api/tenants/:t/devices/actions', () => {
  it('disables and re-enables a Chrome OS device, records the audit document and refreshes the Chrome OS mapping', async () => {
    const { t, chromeosMapping } = await tenant({ devices: true });
    const id = await chromebook();
    const before = Date.now();
    const res = await act(t, { entity: 'chromeos', action: 'disable', deviceIds: [id] });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(await chromeStatus(id)).toBe('DISABLED');
    const action = res.body.action;
    expect(action).toMatchObject({
      tenantId: t,
      entity: 'chromeos',
      action: 'disable',
      deviceIds: [id],
      requestedBy: h.ws.adminEmail,
      results: [{ deviceId: id, ok: true }],
      succeeded: 1,
      failed: 0,
    });
    expect(Date.parse(action.requestedAt as string)).toBeGreaterThanOrEqual(before - 1000);
    // Only the mapping of the entity acted on is synced, not the users mapping.
    expect(action.refresh.runs).toEqual([
      { mappingId: chromeosMapping, runId: expect.any(String), deduplicated: false },
    ]);
    expect(await auditDoc(t, action.id as string)).toEqual(action);
    const published = await h.pullSyncMessages();
    expect(published).toEqual([
      expect.objectContaining({
        tenantId: t,
        mappingId: chromeosMapping,
        trigger: 'manual',
        plannedRunId: action.refresh.runs[0].runId,
      }),
    ]);

    const back = await act(t, { entity: 'chromeos', action: 'reenable', deviceIds: [id] });
    expect(back.status, back.text).toBe(200);
    expect(await chromeStatus(id)).toBe('ACTIVE');
    // The run planned a moment ago has not started yet, so it covers this request too: nothing new is published.
    expect(back.body.action.refresh.runs).toEqual([
      { mappingId: chromeosMapping, runId: action.refresh.runs[0].runId, deduplicated: true },
    ]);
    expect(await h.pullSyncMessages()).toEqual([]);
  });

  it('without the device management scope answers 403 naming it; nothing reaches Google or Firestore', async () => {
    // Google's grant is per account and client: start from one without device scopes.
    await h.control.revokeGrants(h.ws.customerId);
    const { t } = await tenant({ devices: false });
    const id = await chromebook();
    const calls = await googleCalls('directory.customer.devices');
    const res = await rejectedUnchanged(
      h,
      () => act(t, { entity: 'chromeos', action: 'disable', deviceIds: [id] }),
      403,
      'permission_denied',
    );
    expect(res.body.error.missingScopes).toEqual(['admin.directory.device.chromeos']);
    expect(res.body.error.message).toContain('admin.directory.device.chromeos');
    expect(await chromeStatus(id)).toBe('ACTIVE');
    expect(await googleCalls('directory.customer.devices')).toBe(calls);
    expect(await h.pullSyncMessages()).toEqual([]);
  });

  it('answers 200 with the device failed for an invalid transition, and refreshes nothing', async () => {
    const { t } = await tenant({ devices: true });
    const id = await chromebook('ACTIVE');
    const res = await act(t, { entity: 'chromeos', action: 'reenable', deviceIds: [id] });
    expect(res.status, res.text).toBe(200);
    expect(res.body.action).toMatchObject({
      results: [
        { deviceId: id, ok: false, error: { kind: 'invalid_transition', message: expect.any(String) } },
      ],
      succeeded: 0,
      failed: 1,
      refresh: { runs: [] },
    });
    expect(await auditDoc(t, res.body.action.id as string)).toEqual(res.body.action);
    expect(await h.pullSyncMessages()).toEqual([]);
  });

  it('reports each device of a bulk request, in the order asked, when some fail', async () => {
    const { t } = await tenant({ devices: true });
    const [a, b] = [await chromebook(), await chromebook()];
    const res = await act(t, { entity: 'chromeos', action: 'disable', deviceIds: ['ghost-device', a, b] });
    expect(res.status, res.text).toBe(200);
    expect(res.body.action.results).toEqual([
      { deviceId: 'ghost-device', ok: false, error: { kind: 'not_found', message: expect.any(String) } },
      { deviceId: a, ok: true },
      { deviceId: b, ok: true },
    ]);
    expect(res.body.action).toMatchObject({ succeeded: 2, failed: 1 });
    expect([await chromeStatus(a), await chromeStatus(b)]).toEqual(['DISABLED', 'DISABLED']);
  });

  it('deprovisions only with the confirmation phrase; without or with a wrong one nothing is sent', async () => {
    const { t } = await tenant({ devices: true });
    const ids = [await chromebook(), await chromebook()];
    const body = {
      entity: 'chromeos',
      action: 'deprovision',
      deviceIds: ids,
      deprovisionReason: 'DEPROVISION_REASON_RETIRING_DEVICE',
    };
    const calls = await googleCalls(BATCH_ROUTE);
    for (const confirm of [undefined, 'deprovision 1 device', 'DEPROVISION 2 DEVICES']) {
      const res = await rejectedUnchanged(h, () => act(t, { ...body, confirm }), 400, 'invalid_argument');
      expect(res.body.error.expectedConfirmation).toBe('deprovision 2 devices');
      expect(res.body.error.details).toEqual([
        { path: 'confirm', message: 'must be "deprovision 2 devices"' },
      ]);
    }
    expect(await googleCalls(BATCH_ROUTE)).toBe(calls);
    expect([await chromeStatus(ids[0]!), await chromeStatus(ids[1]!)]).toEqual(['ACTIVE', 'ACTIVE']);

    const res = await act(t, { ...body, confirm: 'deprovision 2 devices' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.action).toMatchObject({
      deprovisionReason: 'DEPROVISION_REASON_RETIRING_DEVICE',
      succeeded: 2,
    });
    expect([await chromeStatus(ids[0]!), await chromeStatus(ids[1]!)]).toEqual([
      'DEPROVISIONED',
      'DEPROVISIONED',
    ]);
  });

  it('moves Chrome OS devices by org unit id', async () => {
    const { t } = await tenant({ devices: true });
    const ou = await h.control.addOrgUnit(h.ws.customerId, { name: 'Lost and found' });
    const id = await chromebook();
    const res = await act(t, {
      entity: 'chromeos',
      action: 'move',
      deviceIds: [id],
      orgUnitId: ou.orgUnitId,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.action).toMatchObject({ orgUnitId: ou.orgUnitId, results: [{ deviceId: id, ok: true }] });
    expect((await h.control.getChromeOsDevice(h.ws.customerId, id)).orgUnitPath).toBe('/Lost and found');
  });

  it('wipes a mobile device remotely only with the confirmation phrase', async () => {
    const { t } = await tenant({ devices: true });
    const m = await h.control.addMobileDevice(h.ws.customerId, {
      type: 'ANDROID',
      email: [h.ws.adminEmail],
      status: 'APPROVED',
    });
    const rid = m.resourceId as string;
    const body = { entity: 'mobile', action: 'admin_remote_wipe', deviceIds: [rid] };
    const refused = await rejectedUnchanged(h, () => act(t, body), 400, 'invalid_argument');
    expect(refused.body.error.expectedConfirmation).toBe('admin_remote_wipe 1 device');
    expect((await h.control.getMobileDevice(h.ws.customerId, rid)).status).toBe('APPROVED');

    const res = await act(t, { ...body, confirm: 'admin_remote_wipe 1 device' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.action).toMatchObject({ entity: 'mobile', results: [{ deviceId: rid, ok: true }] });
    expect((await h.control.getMobileDevice(h.ws.customerId, rid)).status).toBe('WIPING');
  });

  it('answers a retry with the same Idempotency-Key and body with the first answer, calling Google once', async () => {
    const { t } = await tenant({ devices: true });
    const id = await chromebook();
    const body = { entity: 'chromeos', action: 'disable', deviceIds: [id] };
    const calls = await googleCalls(BATCH_ROUTE);
    const first = await act(t, body, { key: 'retry-key-0001' });
    expect(first.status, first.text).toBe(200);
    expect(first.body.action.idempotencyKey).toBe('retry-key-0001');
    // Were Google called again, the device (now DISABLED) would answer an invalid transition.
    const again = await act(
      t,
      { deviceIds: [id], action: 'disable', entity: 'chromeos' },
      { key: 'retry-key-0001' },
    );
    expect(again.status, again.text).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await googleCalls(BATCH_ROUTE)).toBe(calls + 1);
    const list = await h.request('GET', `/api/tenants/${t}/devices/actions`, { token: owner });
    expect(list.body.actions).toHaveLength(1);

    const other = await rejectedUnchanged(
      h,
      () => act(t, { ...body, action: 'reenable' }, { key: 'retry-key-0001' }),
      409,
      'conflict',
    );
    expect(other.body.error.message).toMatch(/different request/);
    expect(await chromeStatus(id)).toBe('DISABLED');
    // The same key in another tenant is another key.
    const { t: t2 } = await tenant({ devices: true });
    const elsewhere = await act(t2, { ...body, action: 'reenable' }, { key: 'retry-key-0001' });
    expect(elsewhere.status, elsewhere.text).toBe(200);
    expect(elsewhere.headers.get('idempotent-replayed')).toBeNull();
    const badKey = await act(t, body, { key: 'short' });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.code).toBe('invalid_argument');
  });

  it('refuses viewers (403) but lets them read the audit trail', async () => {
    const { t } = await tenant({ devices: true });
    const id = await chromebook();
    await rejectedUnchanged(
      h,
      () => act(t, { entity: 'chromeos', action: 'disable', deviceIds: [id] }, { token: viewer }),
      403,
      'permission_denied',
    );
    expect(await chromeStatus(id)).toBe('ACTIVE');
    const list = await h.request('GET', `/api/tenants/${t}/devices/actions`, { token: viewer });
    expect(list.status, list.text).toBe(200);
    expect(list.body).toEqual({ actions: [], next: null });
  });

  it('answers 400 in the API error shape for bad bodies, changing nothing', async () => {
    const { t } = await tenant({ devices: true });
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `dev-${i}`);
    const cases: Array<[unknown, string]> = [
      [{ entity: 'chromeos', action: 'disable', deviceIds: ['a'], extra: 1 }, 'extra'],
      [{ entity: 'chromeos', action: 'disable', deviceIds: ids(101) }, 'deviceIds'],
      [{ entity: 'chromeos', action: 'disable', deviceIds: [] }, 'deviceIds'],
      [{ entity: 'chromeos', action: 'disable', deviceIds: ['a', 'b', 'a'] }, 'deviceIds'],
      [
        { entity: 'chromeos', action: 'deprovision', deviceIds: ['a'], confirm: 'deprovision 1 device' },
        'deprovisionReason',
      ],
      [
        {
          entity: 'chromeos',
          action: 'disable',
          deviceIds: ['a'],
          deprovisionReason: 'DEPROVISION_REASON_RETIRING_DEVICE',
        },
        'deprovisionReason',
      ],
      [
        {
          entity: 'chromeos',
          action: 'deprovision',
          deviceIds: ['a'],
          deprovisionReason: 'DEPROVISION_REASON_REPAIR_CENTER',
          confirm: 'deprovision 1 device',
        },
        'deprovisionReason',
      ],
      [{ entity: 'chromeos', action: 'move', deviceIds: ['a'] }, 'orgUnitId'],
      [{ entity: 'mobile', action: 'disable', deviceIds: ['a'] }, 'action'],
      [{ entity: 'mobile', action: 'block', deviceIds: ['a'], orgUnitId: 'x' }, 'orgUnitId'],
      [{ entity: 'printers', action: 'disable', deviceIds: ['a'] }, 'entity'],
    ];
    for (const [body, path] of cases) {
      const res = await rejectedUnchanged(h, () => act(t, body), 400, 'invalid_argument');
      expect(
        res.body.error.details.map((d: { path: string }) => d.path),
        JSON.stringify(body),
      ).toContain(path);
    }
  });

  it('answers 409 for a tenant that is not connected, and for a revoked authorization (marking it)', async () => {
    await h.createTenant('act-pending', h.ws.adminEmail);
    const body = { entity: 'chromeos', action: 'disable', deviceIds: ['x'] };
    await rejectedUnchanged(h, () => act('act-pending', body), 409, 'failed_precondition');

    const { t } = await tenant({ devices: true });
    const id = await chromebook();
    await h.control.revokeGrants(h.ws.customerId);
    const res = await act(t, { ...body, deviceIds: [id] });
    expect(res.status, res.text).toBe(409);
    expect(res.body.error.code).toBe('failed_precondition');
    expect(await chromeStatus(id)).toBe('ACTIVE');
    expect((await h.db.doc(paths.tenant(t)).get()).get('status')).toBe('needs_reauth');
    expect((await h.db.collection(paths.deviceActions(t)).get()).size).toBe(0);
  });
});

describe('GET /api/tenants/:t/devices/actions', () => {
  it('lists newest first with paging, reads one by id, and keeps tenants apart', async () => {
    const { t } = await tenant({ devices: true });
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await act(t, { entity: 'chromeos', action: 'reenable', deviceIds: [await chromebook()] });
      expect(res.status, res.text).toBe(200);
      made.push(res.body.action.id as string);
      // requestedAt has millisecond resolution: keep the three apart so "newest first" is well defined.
      await new Promise((r) => setTimeout(r, 5));
    }
    const base = `/api/tenants/${t}/devices/actions`;
    const page1 = await withoutWrites(h, () => h.request('GET', `${base}?limit=2`, { token: viewer }));
    expect(page1.status, page1.text).toBe(200);
    expect(page1.body.actions.map((a: { id: string }) => a.id)).toEqual([made[2], made[1]]);
    expect(page1.body.next).toBe(made[1]);
    const page2 = await h.request('GET', `${base}?limit=2&after=${page1.body.next}`, { token: viewer });
    expect(page2.body.actions.map((a: { id: string }) => a.id)).toEqual([made[0]]);
    expect(page2.body.next).toBeNull();

    const one = await h.request('GET', `${base}/${made[0]}`, { token: viewer });
    expect(one.status, one.text).toBe(200);
    expect(one.body).toEqual({ action: page2.body.actions[0] });
    expect(one.body.action).toEqual(await auditDoc(t, made[0]!));

    expect((await h.request('GET', `${base}?limit=0`, { token: viewer })).status).toBe(400);
    expect((await h.request('GET', `${base}?after=nope`, { token: viewer })).status).toBe(400);
    expect((await h.request('GET', `${base}/nope`, { token: viewer })).status).toBe(404);

    // Another tenant of the same owner does not see this tenant's action by its id.
    const { t: other } = await tenant({ devices: false });
    const foreign = await h.request('GET', `/api/tenants/${other}/devices/actions/${made[0]}`, {
      token: owner,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('not_found');
  });
});
