import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { runSync } from '../../functions/src/engine/engine.js';
import { recordIdFor } from '../../functions/src/engine/record-id.js';
import { rejectedUnchanged, startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let owner: string;
let viewer: string;

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
  viewer = await h.signIn(await h.addUser('wendy.viewer@school.example'));
});
afterAll(async () => {
  await h?.close();
});

let seq = 0;
let serial = 0;

/**
 * A connected tenant with a viewer and a Chrome OS mapping whose asset id is written back to Google, one
 * Chromebook, and a first sync done; `devices` turns device management on (the manage scope) before the sync.
 */
async function syncedDevice(opts: { devices: boolean }) {
  const t = `wb-${++seq}`;
  await h.createTenant(t, h.ws.adminEmail);
  await h.addMember(t, 'wendy.viewer@school.example', 'viewer');
  const device = await h.control.addChromeOsDevice(h.ws.customerId, {
    serialNumber: `WB${++serial}`,
    annotatedAssetId: `ASSET-${serial}`,
    annotatedLocation: 'Room 1',
  });
  const deviceId = device.deviceId as string;
  const mapping = await h.request('POST', `/api/tenants/${t}/mappings`, {
    token: owner,
    body: {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'deviceId',
      target: { kind: 'collection', objectId: 'chromebooks' },
      fieldMap: [
        { source: 'deviceId', target: 'deviceId' },
        { source: 'annotatedAssetId', target: 'assetTag', direction: 'toGoogle' },
        { source: 'annotatedLocation', target: 'room' },
      ],
    },
  });
  expect(mapping.status, mapping.text).toBe(201);
  const mappingId = mapping.body.id as string;
  expect((await h.connect(t, owner)).searchParams.get('connected')).toBe('1');
  if (opts.devices) {
    const cb = await h.enableDeviceManagement(t, owner);
    expect(cb.toString()).toContain('deviceManagement=on');
  }
  await h.pullSyncMessages();
  const first = await sync(t, mappingId);
  expect(first).toMatchObject({ status: 'completed' });
  const recordId = recordIdFor('deviceId', deviceId);
  const ref = h.db.doc(paths.record(t, 'chromebooks', recordId));
  expect((await ref.get()).get('assetTag')).toBe(`ASSET-${serial}`);
  return { t, mappingId, deviceId, recordId, ref, asset: `ASSET-${serial}` };
}

let requestSeq = 0;
const sync = (tenantId: string, mappingId: string) =>
  runSync(h.app.syncDeps(), {
    kind: 'sync',
    tenantId,
    mappingId,
    requestId: `wb-request-${++requestSeq}`,
    trigger: 'manual',
  });

const writeBack = (t: string, recordId: string, fields: unknown, token = owner) =>
  h.request('POST', `/api/tenants/${t}/objects/chromebooks/records/${recordId}/write-back`, {
    token,
    body: { fields },
  });
const atGoogle = async (deviceId: string) => h.control.getChromeOsDevice(h.ws.customerId, deviceId);

describe('POST /api/tenants/:t/objects/:o/records/:r/write-back', () => {
  it('writes the asset id to Google and the record, audits it, and the next sync finds the device unchanged', async () => {
    const { t, mappingId, deviceId, recordId, ref } = await syncedDevice({ devices: true });
    const res = await writeBack(t, recordId, { assetTag: 'NEW-TAG-7' });
    expect(res.status, res.text).toBe(200);
    expect((await atGoogle(deviceId)).annotatedAssetId).toBe('NEW-TAG-7');
    const written = await ref.get();
    expect(written.get('assetTag')).toBe('NEW-TAG-7');
    expect(written.get('room')).toBe('Room 1');
    expect(res.body.action).toMatchObject({
      action: 'writeBack',
      entity: 'chromeos',
      deviceIds: [deviceId],
      fields: { annotatedAssetId: 'NEW-TAG-7' },
      googleAnswer: { deviceId, annotatedAssetId: 'NEW-TAG-7' },
      requestedBy: h.ws.adminEmail,
    });
    expect((await h.db.doc(paths.deviceAction(t, res.body.action.id as string)).get()).data()).toEqual(
      res.body.action,
    );

    // The hash index already holds Google's answer: the next sync sees nothing to write.
    const next = await sync(t, mappingId);
    expect(next).toMatchObject({ status: 'completed' });
    const after = await ref.get();
    expect(after.updateTime!.isEqual(written.updateTime!)).toBe(true);
    expect(after.get('assetTag')).toBe('NEW-TAG-7');
  });

  it('answers 409 naming the field when Google changed it since the last sync, and writes nothing', async () => {
    const { t, deviceId, recordId, ref, asset } = await syncedDevice({ devices: true });
    await h.control.updateChromeOsDevice(h.ws.customerId, deviceId, { annotatedAssetId: 'EDITED-AT-GOOGLE' });
    const before = await ref.get();
    const res = await writeBack(t, recordId, { assetTag: 'MINE' });
    expect(res.status, res.text).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'conflict',
      conflicts: [{ field: 'assetTag', google: 'EDITED-AT-GOOGLE', stored: asset }],
    });
    expect(res.body.error.message).toContain('assetTag');
    expect((await atGoogle(deviceId)).annotatedAssetId).toBe('EDITED-AT-GOOGLE');
    expect((await ref.get()).updateTime!.isEqual(before.updateTime!)).toBe(true);
  });

  it('refuses a field the mapping does not write to Google (400 naming it)', async () => {
    const { t, deviceId, recordId } = await syncedDevice({ devices: true });
    const res = await rejectedUnchanged(
      h,
      () => writeBack(t, recordId, { assetTag: 'X', room: 'Room 9' }),
      400,
      'invalid_argument',
    );
    expect(res.body.error.message).toContain('room');
    expect(res.body.error.message).not.toContain('assetTag');
    expect((await atGoogle(deviceId)).annotatedLocation).toBe('Room 1');
  });

  it('refuses a viewer (403)', async () => {
    const { t, deviceId, recordId, asset } = await syncedDevice({ devices: true });
    await rejectedUnchanged(
      h,
      () => writeBack(t, recordId, { assetTag: 'X' }, viewer),
      403,
      'permission_denied',
    );
    expect((await atGoogle(deviceId)).annotatedAssetId).toBe(asset);
  });

  it('without the device management scope answers 403 naming it; Google is unchanged', async () => {
    // Google's grant is per account and client: start from one without device scopes.
    await h.control.revokeGrants(h.ws.customerId);
    const { t, deviceId, recordId, asset } = await syncedDevice({ devices: false });
    const res = await rejectedUnchanged(
      h,
      () => writeBack(t, recordId, { assetTag: 'X' }),
      403,
      'permission_denied',
    );
    expect(res.body.error.missingScopes).toEqual(['admin.directory.device.chromeos']);
    expect((await atGoogle(deviceId)).annotatedAssetId).toBe(asset);
  });
});
