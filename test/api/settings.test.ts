import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { HOST_KEY_ID, startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let owner: string;
let admin: string;
let viewer: string;

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
  await h.createTenant('acme', h.ws.adminEmail, 'Acme School');
  await h.createTenant('other', h.ws.adminEmail, 'Other School');
  const adminEmail = await h.addUser('admin.person@school.example');
  const viewerEmail = await h.addUser('viewer.person@school.example');
  await h.addMember('acme', adminEmail, 'admin');
  await h.addMember('acme', viewerEmail, 'viewer');
  admin = await h.signIn(adminEmail);
  viewer = await h.signIn(viewerEmail);
});
afterAll(async () => {
  await h?.close();
});

const settingsPath = '/api/tenants/acme/settings';

describe('tenant settings', () => {
  it('members read the defaults: Google then Entra, each mapping’s own threshold, several syncs a day', async () => {
    for (const token of [owner, admin, viewer]) {
      const res = await h.request('GET', settingsPath, { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe('"s1"');
      expect(res.body).toMatchObject({
        peoplePrecedence: { default: ['google', 'entra'] },
        removalThresholdPercent: null,
        schedule: {
          cron: '0 6,12,18 * * *',
          timeZone: 'Etc/UTC',
          description: 'At 06:00, 12:00 and 18:00',
          custom: false,
          // A pending tenant is not synced on schedule.
          nextRunAt: null,
        },
        version: 1,
      });
    }
    expect((await h.request('GET', settingsPath, { token: viewer })).body.canEdit).toBe(false);
    expect((await h.request('GET', settingsPath, { token: owner })).body.canEdit).toBe(true);
  });

  it('owners change them, with an audit entry naming who, when and each old and new value', async () => {
    const res = await h.request('PUT', settingsPath, {
      token: owner,
      headers: { 'if-match': '"s1"' },
      body: {
        schedule: { cron: '0 7,13 * * MON-FRI', timeZone: 'America/New_York' },
        removalThresholdPercent: 5,
        peoplePrecedence: { default: ['entra', 'google'], perField: { title: ['google'] } },
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"s2"');
    expect(res.body).toMatchObject({
      version: 2,
      removalThresholdPercent: 5,
      schedule: {
        cron: '0 7,13 * * MON-FRI',
        timeZone: 'America/New_York',
        description: 'At 07:00 and 13:00, Monday through Friday',
        custom: true,
      },
      changed: ['peoplePrecedence', 'removalThresholdPercent', 'schedule'],
    });
    const doc = (await h.db.doc(paths.tenant('acme')).get()).data()!;
    expect(doc).toMatchObject({
      removalThresholdPercent: 5,
      peoplePrecedence: { default: ['entra', 'google'], perField: { title: ['google'] } },
      schedule: { cron: '0 7,13 * * MON-FRI', timeZone: 'America/New_York' },
      settingsVersion: 2,
      settingsUpdatedBy: h.ws.adminEmail,
    });
    // A new schedule counts from now: nothing of it is due before the change.
    expect(Math.abs(doc.schedule.lastScheduledAt - Date.now())).toBeLessThan(60_000);

    const audit = await h.request('GET', `${settingsPath}/audit`, { token: viewer });
    expect(audit.status).toBe(200);
    expect(audit.body.entries).toHaveLength(1);
    expect(audit.body.entries[0]).toMatchObject({
      by: h.ws.adminEmail,
      version: 2,
      changes: [
        {
          field: 'peoplePrecedence',
          from: { default: ['google', 'entra'] },
          to: { default: ['entra', 'google'], perField: { title: ['google'] } },
        },
        { field: 'removalThresholdPercent', from: null, to: 5 },
        {
          field: 'schedule',
          from: { cron: '0 6,12,18 * * *', timeZone: 'Etc/UTC' },
          to: { cron: '0 7,13 * * MON-FRI', timeZone: 'America/New_York' },
        },
      ],
    });
    expect(Math.abs(Date.parse(audit.body.entries[0].at) - Date.now())).toBeLessThan(60_000);

    // The same values again change nothing and leave no entry; a partial change touches only its field.
    const same = await h.request('PUT', settingsPath, { token: owner, body: { removalThresholdPercent: 5 } });
    expect(same.body).toMatchObject({ version: 2, changed: [] });
    const cleared = await h.request('PUT', settingsPath, {
      token: owner,
      body: { removalThresholdPercent: null },
    });
    expect(cleared.body).toMatchObject({
      version: 3,
      changed: ['removalThresholdPercent'],
      removalThresholdPercent: null,
    });
    expect((await h.db.doc(paths.tenant('acme')).get()).get('removalThresholdPercent')).toBeUndefined();
    const entries = (await h.request('GET', `${settingsPath}/audit`, { token: owner })).body.entries;
    expect(entries.map((e: { version: number }) => e.version)).toEqual([3, 2]);
    expect(entries[0].changes).toEqual([{ field: 'removalThresholdPercent', from: 5, to: null }]);
  });

  it('refuses a stale If-Match with 412 and changes nothing', async () => {
    const before = await h.dump();
    const res = await h.request('PUT', settingsPath, {
      token: owner,
      headers: { 'if-match': '"s1"' },
      body: { removalThresholdPercent: 9 },
    });
    expect(res.status).toBe(412);
    expect(res.body.error.message).toMatch(/changed by someone else/);
    expect(await h.dump()).toEqual(before);
  });

  it.each([
    [
      { schedule: { cron: '0 6 * * *', timeZone: 'Mars/Olympus_Mons' } },
      'schedule.timeZone',
      /IANA time zone/,
    ],
    [{ schedule: { cron: '0 6 * * *', timeZone: '+02:00' } }, 'schedule.timeZone', /IANA time zone/],
    [{ schedule: { cron: '0 25 * * *', timeZone: 'Etc/UTC' } }, 'schedule.cron', /hour/],
    [{ schedule: { cron: '0 0 6 * * *', timeZone: 'Etc/UTC' } }, 'schedule.cron', /5-part/],
    [
      { schedule: { cron: '*/10 * * * *', timeZone: 'Etc/UTC' } },
      'schedule.cron',
      /at least 60 minutes apart/,
    ],
    [{ schedule: { cron: '0 0 30 2 *', timeZone: 'Etc/UTC' } }, 'schedule.cron', /never runs/],
    [{ schedule: { cron: '0 6 * * *' } }, 'schedule.timeZone', /./],
    [{ removalThresholdPercent: 101 }, 'removalThresholdPercent', /100/],
    [{ removalThresholdPercent: '5' }, 'removalThresholdPercent', /number/],
    [{ peoplePrecedence: { default: ['google', 'google'] } }, 'peoplePrecedence.default', /only once/],
    [{ peoplePrecedence: { default: ['okta'] } }, 'peoplePrecedence.default.0', /./],
    [{ notificationTargets: [] }, 'notificationTargets', /unknown/],
    [{}, '', /at least one setting/],
  ])('refuses %j with 400 naming %s', async (body, path, message) => {
    const before = await h.dump();
    const res = await h.request('PUT', settingsPath, { token: owner, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_argument');
    const detail = res.body.error.details.find((d: { path: string }) => d.path === path);
    expect(detail, JSON.stringify(res.body.error.details)).toBeDefined();
    expect(detail.message).toMatch(message);
    expect(await h.dump()).toEqual(before);
  });

  it('admins and viewers cannot change them; other tenants are not found', async () => {
    const before = await h.dump();
    for (const token of [admin, viewer]) {
      const res = await h.request('PUT', settingsPath, { token, body: { removalThresholdPercent: 1 } });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/only owners/);
    }
    const other = await h.request('GET', '/api/tenants/other/settings', { token: viewer });
    expect(other.status).toBe(404);
    expect(await h.dump()).toEqual(before);
  });

  it('the host product reads and writes them with its signature, audited under its key', async () => {
    const read = await h.hostRequest('GET', settingsPath, undefined);
    expect(read.status).toBe(200);
    const res = await h.hostRequest('PUT', settingsPath, {
      schedule: { cron: '30 5,11,17 * * *', timeZone: 'Europe/Berlin' },
    });
    expect(res.status).toBe(200);
    expect(res.body.schedule).toMatchObject({
      timeZone: 'Europe/Berlin',
      description: 'At 05:30, 11:30 and 17:30',
    });
    const [latest] = (await h.request('GET', `${settingsPath}/audit?limit=1`, { token: owner })).body.entries;
    expect(latest.by).toBe(`host-product:${HOST_KEY_ID}`);
  });

  it('the tenant status shows the tenant’s own schedule with its next run once the tenant is active', async () => {
    await h.db.doc(paths.tenant('acme')).update({ status: 'active' });
    const res = await h.request('GET', '/api/tenants/acme', { token: viewer });
    expect(res.body.schedule).toMatchObject({
      cron: '30 5,11,17 * * *',
      timeZone: 'Europe/Berlin',
      description: 'At 05:30, 11:30 and 17:30',
    });
    const next = new Date(res.body.schedule.nextRunAt);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    const berlin = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
    }).format(next);
    expect(['05:30', '11:30', '17:30']).toContain(berlin);
  });
});
