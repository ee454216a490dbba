import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { rejectedUnchanged, startApiHarness, usersMapping, type ApiHarness } from './api-harness.js';

/** Several login-users mappings per tenant, one per org unit and role; real conflicts are 409s in words. */

let h: ApiHarness;
let owner: string;
const base = '/api/tenants/t1/mappings';

const logins = (name: string, role: string, scope: string[] | null, extra: Record<string, unknown> = {}) =>
  usersMapping({
    name,
    target: { kind: 'loginUsers', role },
    fieldMap: [{ source: 'name.fullName', target: 'displayName' }],
    orgUnitScope: scope ? { paths: scope } : null,
    ...extra,
  });

beforeAll(async () => {
  h = await startApiHarness({ users: 10, chromeos: 0, mobile: 0 });
  owner = await h.signIn(h.ws.adminEmail);
  await h.createTenant('t1', h.ws.adminEmail);
});
afterAll(async () => {
  await h?.close();
});

describe('login-users mappings, one per org unit', () => {
  const ids: Record<string, string> = {};

  it('creates several, each with its own scope and role, nested or not', async () => {
    for (const [name, role, scope] of [
      ['Everyone else', 'G0', null],
      ['Staff', 'G1', ['/Staff']],
      ['Teachers', 'G2', ['/Staff/Teachers', '/Schools/Lincoln High/Teachers']],
    ] as const) {
      const res = await h.request('POST', base, {
        token: owner,
        body: logins(name, role, scope && [...scope]),
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body.target).toEqual({ kind: 'loginUsers', role });
      ids[name] = res.body.id;
    }
    const list = await h.request('GET', base, { token: owner });
    expect(
      list.body.mappings.filter((m: { target: { kind: string } }) => m.target.kind === 'loginUsers'),
    ).toHaveLength(3);
  });

  it('refuses a second mapping for an org unit another one claims, saying which and where', async () => {
    const res = await rejectedUnchanged(
      h,
      () =>
        h.request('POST', base, { token: owner, body: logins('Staff again', 'G9', ['/Schools', '/Staff/']) }),
      409,
      'conflict',
    );
    expect(res.body.error.message).toBe(
      'mapping "Staff" already gives login users in the org unit /Staff the role "G1"; each org unit can have one login-users mapping, so choose another org unit, or edit "Staff" instead',
    );
    expect(res.body.error.details).toEqual([
      { path: 'orgUnitScope.paths.1', message: res.body.error.message },
    ]);
    expect(res.body.error.conflictsWith).toEqual({ id: ids.Staff, name: 'Staff' });
    // Not a concurrency refusal: nothing about someone else's change.
    expect(res.body.error.message).not.toMatch(/changed by someone else/);
  });

  it('refuses a second mapping without a scope, and one keyed by another identifier', async () => {
    const unscoped = await rejectedUnchanged(
      h,
      () => h.request('POST', base, { token: owner, body: logins('All', 'G8', null) }),
      409,
      'conflict',
    );
    expect(unscoped.body.error.details[0].path).toBe('orgUnitScope');
    expect(unscoped.body.error.message).toMatch(
      /"Everyone else" already gives login users in every org unit/,
    );
    const byId = await rejectedUnchanged(
      h,
      () =>
        h.request('POST', base, {
          token: owner,
          body: logins('By id', 'G7', ['/Contractors'], { identifier: 'id' }),
        }),
      409,
      'conflict',
    );
    expect(byId.body.error.details[0].path).toBe('identifier');
  });

  it('checks an edit the same way, and lets a mapping keep or move its own org units', async () => {
    const path = `${base}/${ids.Teachers}`;
    const clash = await rejectedUnchanged(
      h,
      () =>
        h.request('PUT', path, {
          token: owner,
          headers: { 'if-match': '"1"' },
          body: logins('Teachers', 'G2', ['/Staff']),
        }),
      409,
      'conflict',
    );
    expect(clash.body.error.conflictsWith.id).toBe(ids.Staff);
    const ok = await h.request('PUT', path, {
      token: owner,
      headers: { 'if-match': '"1"' },
      body: logins('Teachers', 'G3', ['/Staff/Teachers']),
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ version: 2, target: { role: 'G3' } });
    // A stale version is still a 412, told apart from a conflict.
    const stale = await h.request('PUT', path, {
      token: owner,
      headers: { 'if-match': '"1"' },
      body: logins('Teachers', 'G3', ['/Staff/Teachers']),
    });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('precondition_failed');
  });

  it('a disabled mapping still claims its org units', async () => {
    const disabled = await h.request('POST', base, {
      token: owner,
      body: logins('Contractors', 'G4', ['/Contractors'], { enabled: false }),
    });
    expect(disabled.status).toBe(201);
    expect((await h.db.doc(paths.mapping('t1', disabled.body.id)).get()).get('enabled')).toBe(false);
    await rejectedUnchanged(
      h,
      () => h.request('POST', base, { token: owner, body: logins('Contractors 2', 'G5', ['/Contractors']) }),
      409,
      'conflict',
    );
  });
});
