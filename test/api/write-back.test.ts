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
async function syncedDevice(opts: { devices: boolean; fields?: Record<string, unknown>[]; notes?: string }) {
  const t = `wb-${++seq}`;
  await h.createTenant(t, h.ws.adminEmail);
  await h.addMember(t, 'wendy.viewer@school.example', 'viewer');
  const device = await h.control.addChromeOsDevice(h.ws.customerId, {
    serialNumber: `WB${++serial}`,
    annotatedAssetId: `ASSET-${serial}`,
    annotatedLocation: 'Room 1',
    ...(opts.notes ? { notes: opts.notes } : {}),
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
        ...(opts.fields ?? []),
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

  it('appends a note through the mapping template, keeping what Google holds even if edited there since', async () => {
    const { t, mappingId, deviceId, recordId, ref } = await syncedDevice({
      devices: true,
      notes: 'Bought 2024',
      fields: [
        {
          source: 'notes',
          target: 'notes',
          direction: 'toGoogle',
          appendTemplate: '{{date}} {{by}}: {{text}}',
        },
      ],
    });
    // Edited at Google after the sync: an append keeps it, so this is no conflict.
    await h.control.updateChromeOsDevice(h.ws.customerId, deviceId, {
      notes: 'Bought 2024\nKeyboard replaced',
    });
    const res = await writeBack(t, recordId, { notes: '  Screen cracked  ' });
    expect(res.status, res.text).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    const expected = `Bought 2024\nKeyboard replaced\n${today} ${h.ws.adminEmail}: Screen cracked`;
    expect((await atGoogle(deviceId)).notes).toBe(expected);
    expect((await ref.get()).get('notes')).toBe(expected);
    expect(res.body.action.fields).toEqual({ notes: expected });

    // A second note goes below the first; the sync after it writes nothing.
    const second = await writeBack(t, recordId, { notes: 'Sent for repair' });
    expect(second.status, second.text).toBe(200);
    const notes = (await atGoogle(deviceId)).notes as string;
    expect(notes.split('\n')).toEqual([
      'Bought 2024',
      'Keyboard replaced',
      `${today} ${h.ws.adminEmail}: Screen cracked`,
      `${today} ${h.ws.adminEmail}: Sent for repair`,
    ]);
    const written = await ref.get();
    expect(await sync(t, mappingId)).toMatchObject({ status: 'completed' });
    expect((await ref.get()).updateTime!.isEqual(written.updateTime!)).toBe(true);
  });

  it('refuses clearing appended notes or sending an empty note (400), and Google is unchanged', async () => {
    const { t, deviceId, recordId } = await syncedDevice({
      devices: true,
      notes: 'Keep me',
      fields: [{ source: 'notes', target: 'notes', direction: 'toGoogle' }],
    });
    for (const value of [null, '   ']) {
      const res = await rejectedUnchanged(
        h,
        () => writeBack(t, recordId, { notes: value }),
        400,
        'invalid_argument',
      );
      expect(res.body.error.details).toEqual([
        { path: 'fields.notes', message: 'notes are appended at Google; send the text to add' },
      ]);
    }
    expect((await atGoogle(deviceId)).notes).toBe('Keep me');
  });

  it('moves the device to another org unit named by path, sending Google its id; the next sync is a no-op', async () => {
    const ou = await h.control.addOrgUnit(h.ws.customerId, { name: `Repair ${++seq}` });
    const { t, mappingId, deviceId, recordId, ref } = await syncedDevice({
      devices: true,
      fields: [{ source: 'orgUnitPath', target: 'orgUnit', direction: 'toGoogle' }],
    });
    const res = await writeBack(t, recordId, { orgUnit: ou.orgUnitPath });
    expect(res.status, res.text).toBe(200);
    const device = await atGoogle(deviceId);
    expect(device.orgUnitPath).toBe(ou.orgUnitPath);
    // Devices carry the bare id (no "id:" prefix, unlike org units themselves).
    const bareId = (ou.orgUnitId as string).replace(/^id:/, '');
    expect(device.orgUnitId).toBe(bareId);
    expect(res.body.action.fields).toEqual({ orgUnitId: bareId });
    expect(res.body.action.googleAnswer).toMatchObject({ orgUnitPath: ou.orgUnitPath });
    const written = await ref.get();
    expect(written.get('orgUnit')).toBe(ou.orgUnitPath);
    expect(await sync(t, mappingId)).toMatchObject({ status: 'completed' });
    expect((await ref.get()).updateTime!.isEqual(written.updateTime!)).toBe(true);
  });

  it('moves by org unit id, and refuses an unknown org unit path or id (400) without moving', async () => {
    const ou = await h.control.addOrgUnit(h.ws.customerId, { name: `Library ${++seq}` });
    const { t, deviceId, recordId } = await syncedDevice({
      devices: true,
      fields: [{ source: 'orgUnitId', target: 'orgUnitId', direction: 'toGoogle' }],
    });
    const before = (await atGoogle(deviceId)).orgUnitPath;
    const unknown = await rejectedUnchanged(
      h,
      () => writeBack(t, recordId, { orgUnitId: 'id:03ph8a2z0000000' }),
      400,
      'invalid_argument',
    );
    expect(unknown.body.error.message).toContain('INVALID_OU_ID');
    expect((await atGoogle(deviceId)).orgUnitPath).toBe(before);

    const res = await writeBack(t, recordId, { orgUnitId: ou.orgUnitId });
    expect(res.status, res.text).toBe(200);
    expect((await atGoogle(deviceId)).orgUnitPath).toBe(ou.orgUnitPath);

    const { t: t2, recordId: r2 } = await syncedDevice({
      devices: true,
      fields: [{ source: 'orgUnitPath', target: 'orgUnit', direction: 'toGoogle' }],
    });
    const noPath = await rejectedUnchanged(
      h,
      () => writeBack(t2, r2, { orgUnit: '/No such unit' }),
      400,
      'invalid_argument',
    );
    expect(noPath.body.error.message).toContain('/No such unit');
  });

  it('a field whose direction is none is neither synced nor written back', async () => {
    const { t, mappingId, deviceId, recordId, ref } = await syncedDevice({
      devices: true,
      fields: [{ source: 'annotatedUser', target: 'user', direction: 'none' }],
    });
    await h.control.updateChromeOsDevice(h.ws.customerId, deviceId, { annotatedUser: 'kim@school.example' });
    expect(await sync(t, mappingId)).toMatchObject({ status: 'completed' });
    const record = await ref.get();
    expect(record.get('deviceId')).toBe(deviceId);
    expect(record.get('user')).toBeUndefined();
    await rejectedUnchanged(
      h,
      () => writeBack(t, recordId, { user: 'x@school.example' }),
      400,
      'invalid_argument',
    );
    expect((await atGoogle(deviceId)).annotatedUser).toBe('kim@school.example');
  });
});
