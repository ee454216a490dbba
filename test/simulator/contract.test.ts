import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NamedSchema } from '../../emulators/workspace-simulator/discovery-schema.js';
import {
  documentedKind,
  loadDirectorySchemas,
  refineUserAnyFields,
  validateAgainst,
} from '../../emulators/workspace-simulator/discovery-schema.js';
import { READONLY_DIRECTORY_SCOPES, SCOPES } from '../../emulators/workspace-simulator/index.js';
import type { SimFixture } from './helpers.js';
import { rawGet, startFixture } from './helpers.js';

const json = (text: string) => (text ? (JSON.parse(text) as Record<string, unknown>) : {});

/**
 * Contract: every JSON object the simulator serves must use only properties the Directory API discovery
 * schema declares (recursively, with compatible JSON types), and `kind` must be what the schema documents.
 * The schema is read at test time from the googleapis typings, so a googleapis upgrade that drops or renames a
 * field makes this fail rather than letting the simulator drift from the real API.
 */

/** List schemas whose `kind` comment does not state a value; these are the values the API returns. */
const UNDOCUMENTED_LIST_KINDS: Record<string, string> = {
  Users: 'admin#directory#users',
  ChromeOsDevices: 'admin#directory#chromeosdevices',
  MobileDevices: 'admin#directory#mobiledevices',
  Groups: 'admin#directory#groups',
  Members: 'admin#directory#members',
};

/** Item kinds (items inside list responses are checked against these too). */
const ITEM_SCHEMA: Record<string, { key: string; item: string }> = {
  Users: { key: 'users', item: 'User' },
  ChromeOsDevices: { key: 'chromeosdevices', item: 'ChromeOsDevice' },
  MobileDevices: { key: 'mobiledevices', item: 'MobileDevice' },
  OrgUnits: { key: 'organizationUnits', item: 'OrgUnit' },
  Groups: { key: 'groups', item: 'Group' },
  Members: { key: 'members', item: 'Member' },
};

let schemas: Map<string, NamedSchema>;
let f: SimFixture;

beforeAll(async () => {
  schemas = loadDirectorySchemas();
  refineUserAnyFields(schemas);
  f = await startFixture({ domain: 'contract.example', users: 400, chromeos: 150, mobile: 120, seed: 5 }, [
    ...READONLY_DIRECTORY_SCOPES,
    SCOPES.groupReadonly,
    SCOPES.chromeos,
    SCOPES.mobileAction,
  ]);
  // Odd-but-legal shapes: hand-made user with every optional structure, deleted user, unicode everywhere.
  await f.control.addUser(f.customerId, {
    primaryEmail: `everything@${f.domain}`,
    givenName: 'Ævar',
    familyName: 'Ørnólfsson',
    aliases: [`ae@${f.domain}`],
    phones: [{ value: '+354 555 1234', type: 'mobile', primary: true }],
    organizations: [
      {
        name: 'District',
        title: 'Lead',
        department: 'IT',
        primary: true,
        costCenter: '42',
        fullTimeEquivalent: 100000,
      },
    ],
    externalIds: [{ value: 'X-1', type: 'organization' }],
    locations: [{ type: 'desk', area: 'desk', buildingId: 'HQ', floorName: '3' }],
    relations: [{ value: `admin@${f.domain}`, type: 'manager' }],
    addresses: [{ type: 'work', formatted: 'Laugavegur 1\n101 Reykjavík', primary: true }],
    languages: [{ languageCode: 'is', preference: 'preferred' }],
    websites: [{ value: 'https://example.is', type: 'work', primary: true }],
    keywords: [{ type: 'occupation', value: 'admin' }],
    gender: { type: 'other', customGender: 'n/a' },
    notes: { contentType: 'text_plain', value: 'hello' },
    ims: [{ protocol: 'matrix', im: '@ae:example.is', type: 'work' }],
    recoveryEmail: 'ae@personal.example',
    recoveryPhone: '+3545550000',
    customSchemas: {
      EmployeeData: { employeeNumber: 'E1', certifications: [{ type: 'work', value: 'CPR' }] },
    },
  });
  await f.control.addUser(f.customerId, {
    primaryEmail: `leaver@${f.domain}`,
    givenName: 'Lee',
    familyName: 'Ver',
  });
  await f.control.deleteUser(f.customerId, `leaver@${f.domain}`);
});

afterAll(async () => {
  await f.sim.close();
});

function expectConforms(schemaName: string, body: Record<string, unknown>): void {
  const problems = validateAgainst(schemas, schemaName, body);
  expect(problems, problems.slice(0, 20).join('\n')).toEqual([]);
  const schema = schemas.get(schemaName);
  if (!schema) throw new Error(`no schema ${schemaName}`);
  const kind = documentedKind(schema) ?? UNDOCUMENTED_LIST_KINDS[schemaName];
  expect(kind, `kind of ${schemaName}`).toBeDefined();
  expect(body['kind']).toBe(kind);
  const list = ITEM_SCHEMA[schemaName];
  if (list) {
    const items = body[list.key] as Array<Record<string, unknown>> | undefined;
    expect(items?.length, `${schemaName}.${list.key} should not be empty in this fixture`).toBeGreaterThan(0);
    const itemKind = documentedKind(schemas.get(list.item) as NamedSchema);
    for (const item of items ?? []) expect(item['kind']).toBe(itemKind);
  }
}

async function get(path: string): Promise<Record<string, unknown>> {
  const res = await rawGet(f.sim, `/admin/directory/v1/${path}`, f.accessToken);
  expect(res.status, `${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBe(200);
  return res.body;
}

describe('discovery schema parsing', () => {
  it('reads the Directory schemas out of the googleapis typings', () => {
    for (const name of [
      'User',
      'UserName',
      'ChromeOsDevice',
      'MobileDevice',
      'OrgUnit',
      'Customer',
      'Users',
      'ChromeOsDevices',
      'MobileDevices',
      'OrgUnits',
      'Group',
      'Groups',
      'Member',
      'Members',
    ]) {
      expect(schemas.get(name)?.type.properties.size, name).toBeGreaterThan(2);
    }
    expect(documentedKind(schemas.get('User') as NamedSchema)).toBe('admin#directory#user');
    expect(documentedKind(schemas.get('OrgUnits') as NamedSchema)).toBe('admin#directory#orgUnits');
    expect(documentedKind(schemas.get('Customer') as NamedSchema)).toBe('admin#directory#customer');
    expect(documentedKind(schemas.get('Group') as NamedSchema)).toBe('admin#directory#group');
    expect(documentedKind(schemas.get('Member') as NamedSchema)).toBe('admin#directory#member');
  });

  it('catches drift: undeclared keys, wrong types and nulls are reported', () => {
    const problems = validateAgainst(schemas, 'User', {
      kind: 'admin#directory#user',
      primaryEmail: 42,
      name: { givenName: 'A', nickname: 'x' },
      phones: [{ value: '1', extension: '2' }],
      suspended: null,
      madeUp: true,
    });
    expect(problems).toEqual([
      '$<User>.primaryEmail: expected string, got number',
      '$<User>.name<UserName>.nickname: not declared in the schema',
      '$<User>.phones[0]<UserPhone>.extension: not declared in the schema',
      '$<User>.suspended: null (Google omits absent fields)',
      '$<User>.madeUp: not declared in the schema',
    ]);
  });
});

describe('served shapes match the discovery schema', () => {
  it.each([
    ['users basic', 'users?customer=my_customer&maxResults=500'],
    ['users full', 'users?customer=my_customer&maxResults=500&projection=full&orderBy=email'],
    [
      'users custom',
      'users?customer=my_customer&maxResults=200&projection=custom&customFieldMask=EmployeeData',
    ],
    ['users domain_public', 'users?domain=contract.example&maxResults=50&viewType=domain_public'],
    ['deleted users', 'users?customer=my_customer&showDeleted=true'],
  ])('Users: %s', async (_label, path) => {
    expectConforms('Users', await get(path));
  });

  it('User: get (full) for the hand-made user and the admin', async () => {
    expectConforms('User', await get(`users/everything@contract.example?projection=full`));
    expectConforms('User', await get(`users/${encodeURIComponent(f.adminEmail)}?projection=full`));
  });

  it.each([
    ['FULL', 'customer/my_customer/devices/chromeos?maxResults=300&projection=FULL'],
    ['BASIC', 'customer/my_customer/devices/chromeos?maxResults=300&projection=BASIC&orderBy=serialNumber'],
  ])('ChromeOsDevices %s and each ChromeOsDevice get', async (_label, path) => {
    const list = await get(path);
    expectConforms('ChromeOsDevices', list);
    const first = (list['chromeosdevices'] as Array<{ deviceId: string }>)[0];
    expectConforms('ChromeOsDevice', await get(`customer/my_customer/devices/chromeos/${first?.deviceId}`));
  });

  it.each([
    ['FULL', 'customer/my_customer/devices/mobile?maxResults=100&projection=FULL'],
    ['BASIC', 'customer/my_customer/devices/mobile?maxResults=100&projection=BASIC'],
  ])('MobileDevices %s and MobileDevice get', async (_label, path) => {
    const list = await get(path);
    expectConforms('MobileDevices', list);
    const first = (list['mobiledevices'] as Array<{ resourceId: string }>)[0];
    expectConforms(
      'MobileDevice',
      await get(`customer/my_customer/devices/mobile/${encodeURIComponent(first?.resourceId ?? '')}`),
    );
  });

  it('OrgUnits (all, allIncludingParent) and OrgUnit get incl. root', async () => {
    expectConforms('OrgUnits', await get('customer/my_customer/orgunits?type=all'));
    expectConforms(
      'OrgUnits',
      await get('customer/my_customer/orgunits?type=allIncludingParent&orgUnitPath=/'),
    );
    expectConforms('OrgUnit', await get('customer/my_customer/orgunits/Staff/IT'));
  });

  it.each([
    ['by id', 'groups?customer=my_customer'],
    ['by email, descending', 'groups?customer=my_customer&orderBy=email&sortOrder=DESCENDING&maxResults=7'],
    ['domain', 'groups?domain=contract.example'],
  ])('Groups: %s', async (_label, path) => {
    expectConforms('Groups', await get(path));
  });

  it('Group get, and Members of every seeded group (users, nested groups, outsiders, the customer)', async () => {
    const list = await get('groups?customer=my_customer');
    const groups = list['groups'] as Array<{ id: string; email: string; directMembersCount: string }>;
    const types = new Set<string>();
    for (const g of groups) {
      expectConforms('Group', await get(`groups/${encodeURIComponent(g.email)}`));
      if (g.directMembersCount === '0') continue;
      const members = await get(`groups/${g.id}/members`);
      expectConforms('Members', members);
      for (const m of members['members'] as Array<{ type: string }>) types.add(m.type);
    }
    expect([...types].sort()).toEqual(['CUSTOMER', 'EXTERNAL', 'GROUP', 'USER']);
  });

  it('Customer', async () => {
    expectConforms('Customer', await get('customers/my_customer'));
  });
});

describe('device writes answer in the discovery shapes', () => {
  async function send(method: string, path: string, body: unknown) {
    const res = await fetch(`${f.sim.url}/admin/directory/v1/${path}`, {
      method,
      headers: { authorization: `Bearer ${f.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: json(await res.text()) };
  }

  it('BatchChangeChromeOsDeviceStatusResponse with successes and per-device errors', async () => {
    const list = await get('customer/my_customer/devices/chromeos?query=status:ACTIVE&maxResults=2');
    const ids = (list['chromeosdevices'] as Array<{ deviceId: string }>).map((d) => d.deviceId);
    const res = await send('POST', 'customer/my_customer/devices/chromeos:batchChangeStatus', {
      deviceIds: [...ids, 'unknown-device'],
      changeChromeOsDeviceStatusAction: 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DEPROVISION',
      deprovisionReason: 'DEPROVISION_REASON_SAME_MODEL_REPLACEMENT',
    });
    expect(res.status).toBe(200);
    const problems = validateAgainst(schemas, 'BatchChangeChromeOsDeviceStatusResponse', res.body);
    expect(problems, problems.join('\n')).toEqual([]);
    const results = res.body['changeChromeOsDeviceStatusResults'] as Array<Record<string, unknown>>;
    expect(results.map((r) => Object.keys(r).sort())).toEqual([
      ['deviceId', 'response'],
      ['deviceId', 'response'],
      ['deviceId', 'error'],
    ]);
    // The deprovisioned device still reads back as a valid ChromeOsDevice.
    expectConforms('ChromeOsDevice', await get(`customer/my_customer/devices/chromeos/${ids[0]}`));
  });

  it('ChromeOsDevice from update and patch', async () => {
    const list = await get('customer/my_customer/devices/chromeos?maxResults=1');
    const id = (list['chromeosdevices'] as Array<{ deviceId: string }>)[0]?.deviceId ?? '';
    const patched = await send('PATCH', `customer/my_customer/devices/chromeos/${id}`, { notes: 'n' });
    expect(patched.status).toBe(200);
    expectConforms('ChromeOsDevice', patched.body);
    const put = await send('PUT', `customer/my_customer/devices/chromeos/${id}?projection=BASIC`, {
      annotatedUser: 'u',
    });
    expect(put.status).toBe(200);
    expectConforms('ChromeOsDevice', put.body);
  });

  it('the void methods answer 204 with no body', async () => {
    const list = await get('customer/my_customer/devices/mobile?maxResults=1');
    const rid = (list['mobiledevices'] as Array<{ resourceId: string }>)[0]?.resourceId ?? '';
    const res = await send('POST', `customer/my_customer/devices/mobile/${rid}/action`, { action: 'block' });
    expect(res).toEqual({ status: 204, body: {} });
  });
});

describe('push notification channels answer in the discovery shapes', () => {
  it('users.watch answers a Channel (api#channel, expiration in ms as a string); channels.stop answers 204', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${f.sim.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await post('/admin/directory/v1/users/watch?customer=my_customer&event=update', {
      id: 'contract-channel',
      type: 'web_hook',
      // Nothing listens there: a refused delivery is the simulator's business, not this contract's.
      address: 'http://127.0.0.1:9/notifications',
      token: 'contract-token',
      params: { ttl: '999999' },
    });
    expect(res.status).toBe(200);
    const channel = (await res.json()) as Record<string, unknown>;
    expect(validateAgainst(schemas, 'Channel', channel)).toEqual([]);
    expect(channel['kind']).toBe('api#channel');
    // Asked for more than Google's maximum of 2 days: capped.
    expect(Number(channel['expiration']) - Date.now()).toBeLessThanOrEqual(2 * 24 * 3600 * 1000);
    const stop = await post('/admin/directory_v1/channels/stop', {
      id: 'contract-channel',
      resourceId: channel['resourceId'],
    });
    expect(stop.status).toBe(204);
    const again = await post('/admin/directory_v1/channels/stop', {
      id: 'no-such-channel',
      resourceId: channel['resourceId'],
    });
    expect(again.status).toBe(404);
  });
});
