import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import {
  rejectedUnchanged,
  startApiHarness,
  withoutWrites,
  type ApiHarness,
  type HttpResult,
} from './api-harness.js';

let h: ApiHarness;
let owner: string;
let ann: string;
let vera: string;
let otto: string;

const ANN = 'ann.admin@school.example';
const VERA = 'vera.viewer@school.example';
const OTTO = 'otto.other@school.example';
const base = '/api/tenants/team/members';

beforeAll(async () => {
  h = await startApiHarness({ users: 10 });
  owner = await h.signIn(h.ws.adminEmail);
  ann = await h.signIn(await h.addUser(ANN));
  vera = await h.signIn(await h.addUser(VERA));
  otto = await h.signIn(await h.addUser(OTTO));
  await h.createTenant('team', h.ws.adminEmail);
  await h.createTenant('elsewhere', OTTO);
});
afterAll(async () => {
  await h?.close();
});

const rejected = (run: () => Promise<HttpResult>, status: number, code: string) =>
  rejectedUnchanged(h, run, status, code);

const put = (email: string, body: unknown, token = owner) =>
  h.request('PUT', `${base}/${encodeURIComponent(email)}`, { token, body });
const del = (email: string, token = owner) =>
  h.request('DELETE', `${base}/${encodeURIComponent(email)}`, { token });
const emailsAndRoles = async (token = owner) =>
  ((await h.request('GET', base, { token })).body.members as Array<{ email: string; role: string }>).map(
    (m) => `${m.role}:${m.email}`,
  );

describe('team members', () => {
  it('an owner adds members, changes a role, and removes a member; access follows at once', async () => {
    const start = await h.request('GET', base, { token: owner });
    expect(start.status).toBe(200);
    expect(start.body).toMatchObject({
      you: h.ws.adminEmail,
      members: [{ email: h.ws.adminEmail, role: 'owner', addedBy: 'host-product:host-1' }],
    });
    // Not a member yet: the tenant does not exist as far as Ann can tell.
    expect((await h.request('GET', '/api/tenants/team', { token: ann })).status).toBe(404);

    // Case in the address does not matter: members are keyed by the lowercased email, as sign-in checks them.
    const added = await put('Ann.Admin@School.example', { role: 'viewer' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      email: ANN,
      role: 'viewer',
      result: 'added',
      addedBy: h.ws.adminEmail,
      addedAt: expect.any(String),
    });
    expect((await h.db.doc(paths.member('team', ANN)).get()).data()).toMatchObject({
      email: ANN,
      role: 'viewer',
    });
    const asViewer = await h.request('GET', '/api/tenants/team', { token: ann });
    expect(asViewer.status).toBe(200);
    expect(asViewer.body.role).toBe('viewer');
    // A viewer cannot change things yet.
    await rejected(
      () => h.request('POST', '/api/tenants/team/sync', { token: ann, body: {} }),
      403,
      'permission_denied',
    );

    const promoted = await put(ANN, { role: 'admin' });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ role: 'admin', result: 'changed', updatedBy: h.ws.adminEmail });
    expect((await h.request('GET', '/api/tenants/team', { token: ann })).body.role).toBe('admin');

    // The same role again is a no-op that writes nothing.
    const again = await withoutWrites(h, () => put(ANN, { role: 'admin' }));
    expect(again.status).toBe(200);
    expect(again.body.result).toBe('unchanged');

    expect((await put(VERA, { role: 'viewer' })).status).toBe(201);
    expect(await emailsAndRoles(vera)).toEqual([
      `owner:${h.ws.adminEmail}`,
      `admin:${ANN}`,
      `viewer:${VERA}`,
    ]);

    const removed = await del(VERA);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ email: VERA, removed: true });
    expect((await h.request('GET', '/api/tenants/team', { token: vera })).status).toBe(404);
    expect((await h.request('GET', base, { token: vera })).status).toBe(404);
    expect(h.logLines.some((l) => l.includes('member removed') && l.includes(VERA))).toBe(true);
  });

  it('only owners manage the team; admins and viewers can see it', async () => {
    await put(VERA, { role: 'viewer' });
    expect(await emailsAndRoles(ann)).toContain(`viewer:${VERA}`);
    expect(await emailsAndRoles(vera)).toContain(`admin:${ANN}`);
    for (const token of [ann, vera]) {
      const res = await rejected(() => put(OTTO, { role: 'owner' }, token), 403, 'permission_denied');
      expect(res.body.error.message).toMatch(/only owners can manage the team/);
      await rejected(() => del(VERA, token), 403, 'permission_denied');
    }
    // An admin cannot promote themselves either.
    await rejected(() => put(ANN, { role: 'owner' }, ann), 403, 'permission_denied');
  });

  it('never leaves a tenant without an owner', async () => {
    const demote = await rejected(() => put(h.ws.adminEmail, { role: 'admin' }), 409, 'failed_precondition');
    expect(demote.body.error.message).toMatch(/at least one owner/);
    await rejected(() => del(h.ws.adminEmail), 409, 'failed_precondition');

    // With a second owner, the first may step down, and the second may then remove them.
    expect((await put(ANN, { role: 'owner' })).status).toBe(200);
    expect((await put(h.ws.adminEmail, { role: 'admin' })).body.role).toBe('admin');
    await rejected(() => del(ANN, ann), 409, 'failed_precondition');
    expect((await del(h.ws.adminEmail, ann)).status).toBe(200);
    expect((await h.request('GET', '/api/tenants/team', { token: owner })).status).toBe(404);
    // Put things back for the tests that follow.
    expect((await put(h.ws.adminEmail, { role: 'owner' }, ann)).status).toBe(201);
    expect((await put(ANN, { role: 'admin' })).body.role).toBe('admin');
  });

  it('two owners demoting each other at once leave exactly one owner', async () => {
    await put(ANN, { role: 'owner' });
    const results = await Promise.all([
      put(ANN, { role: 'admin' }, owner),
      put(h.ws.adminEmail, { role: 'admin' }, ann),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const after = await emailsAndRoles();
    expect(after.filter((m) => m.startsWith('owner:'))).toHaveLength(1);
    // Back to: the signed-in admin owns, Ann administers.
    const remaining = after.includes(`owner:${h.ws.adminEmail}`) ? owner : ann;
    await put(h.ws.adminEmail, { role: 'owner' }, remaining);
    await put(ANN, { role: 'admin' }, remaining);
    expect(await emailsAndRoles()).toEqual([`owner:${h.ws.adminEmail}`, `admin:${ANN}`, `viewer:${VERA}`]);
  });

  it('refuses bad input with clear errors and changes nothing', async () => {
    const badEmail = await rejected(() => put('not-an-email', { role: 'viewer' }), 400, 'invalid_argument');
    expect(badEmail.body.error.details).toEqual([
      { path: 'memberEmail', message: 'must be an email address' },
    ]);
    const badRole = await rejected(() => put(OTTO, { role: 'superuser' }), 400, 'invalid_argument');
    expect(badRole.body.error.details[0].path).toBe('role');
    const unknown = await rejected(
      () => put(OTTO, { role: 'viewer', canDelete: true }),
      400,
      'invalid_argument',
    );
    expect(unknown.body.error.details).toEqual([expect.objectContaining({ path: 'canDelete' })]);
    await rejected(() => put(OTTO, { role: 7 }), 400, 'invalid_argument');
    await rejected(() => h.request('PUT', `${base}/${OTTO}`, { token: owner }), 400, 'invalid_argument');
    await rejected(
      () =>
        h.request('PUT', `${base}/${OTTO}`, {
          token: owner,
          rawBody: 'role=owner',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      415,
      'unsupported_media_type',
    );
    await rejected(() => del('nobody@school.example'), 404, 'not_found');
    await rejected(
      () => h.request('PUT', `${base}/${OTTO}`, { body: { role: 'viewer' } }),
      401,
      'unauthenticated',
    );
  });

  it('no one reaches another tenant’s team', async () => {
    // Otto owns "elsewhere"; to him "team" does not exist, whatever he tries.
    await rejected(() => h.request('GET', base, { token: otto }), 404, 'not_found');
    await rejected(() => put(OTTO, { role: 'owner' }, otto), 404, 'not_found');
    await rejected(() => del(h.ws.adminEmail, otto), 404, 'not_found');
    // And the owner of "team" cannot add themselves to "elsewhere".
    await rejected(
      () =>
        h.request('PUT', `/api/tenants/elsewhere/members/${h.ws.adminEmail}`, {
          token: owner,
          body: { role: 'owner' },
        }),
      404,
      'not_found',
    );
    await rejected(
      () => h.request('GET', '/api/tenants/elsewhere/members', { token: owner }),
      404,
      'not_found',
    );
  });

  it('the host product manages members with its signature', async () => {
    const listed = await h.hostRequest('GET', '/api/tenants/elsewhere/members', undefined);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body).toMatchObject({ you: null, members: [{ email: OTTO, role: 'owner' }] });
    const added = await h.hostRequest('PUT', `/api/tenants/elsewhere/members/${VERA}`, { role: 'admin' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ email: VERA, role: 'admin', addedBy: 'host-product:host-1' });
    expect((await h.request('GET', '/api/tenants/elsewhere', { token: vera })).body.role).toBe('admin');
    // A bad signature changes nothing.
    await rejected(
      () =>
        h.hostRequest('DELETE', `/api/tenants/elsewhere/members/${VERA}`, undefined, {
          secret: 'not-the-right-secret-0000000000',
        }),
      401,
      'unauthenticated',
    );
    expect((await h.hostRequest('DELETE', `/api/tenants/elsewhere/members/${VERA}`, undefined)).status).toBe(
      200,
    );
    await rejected(
      () => h.hostRequest('DELETE', `/api/tenants/elsewhere/members/${OTTO}`, undefined),
      409,
      'failed_precondition',
    );
  });
});
