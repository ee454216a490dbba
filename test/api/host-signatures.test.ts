import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSignatureHeaders } from '../../functions/src/api/host-hmac.js';
import { paths } from '../../shared/firestore-paths.js';
import { HOST_KEY_ID, HOST_SECRET, startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
const KEY = { keyId: HOST_KEY_ID, secret: HOST_SECRET };
const ANN = 'ann.admin@school.example';
const member = `/api/tenants/acme/members/${encodeURIComponent(ANN)}`;

beforeAll(async () => {
  h = await startApiHarness({ users: 5 });
  await h.createTenant('acme', h.ws.adminEmail);
});
afterAll(async () => {
  await h?.close();
});

/** A signed request as a host builds it; `headers` lets a test send the very same bytes twice. */
function signed(method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const headers = {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...hostSignatureHeaders(KEY, { method, path, rawBody: raw }),
    ...extra,
  };
  return {
    headers,
    send: (h2: Record<string, string> = headers) =>
      h.request(method, path, { headers: h2, ...(body === undefined ? {} : { rawBody: raw }) }),
  };
}

const memberExists = async () => (await h.db.doc(paths.member('acme', ANN)).get()).exists;

describe('host signatures are accepted once', () => {
  it('a captured request replayed within its window cannot re-add a removed member', async () => {
    const add = signed('PUT', member, { role: 'admin' });
    expect((await add.send()).status).toBe(201);
    const removal = await h.hostRequest('DELETE', member, undefined);
    expect(removal.status).toBe(200);
    expect(await memberExists()).toBe(false);

    const replay = await add.send();
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatchObject({ code: 'unauthenticated', message: /already used/ });
    expect(await memberExists()).toBe(false);
    // A replay of the removal is refused the same way (it would otherwise answer 404 and probe).
    expect((await h.hostRequest('DELETE', member, undefined)).status).toBe(404);
  });

  it('concurrent copies of one signature: exactly one is accepted', async () => {
    const list = signed('GET', '/api/tenants/acme/members');
    const answers = await Promise.all(Array.from({ length: 8 }, () => list.send()));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
  });

  it('covers the query string: a signature made for one query is refused with another', async () => {
    const s = signed('GET', '/api/tenants/acme/members?page=1');
    const moved = await h.request('GET', '/api/tenants/acme/members?page=2', { headers: s.headers });
    expect(moved.status).toBe(401);
    expect(moved.body.error.message).toMatch(/does not match the method, path, query and body/);
    expect((await s.send()).status).toBe(200);
  });

  it('requires a nonce', async () => {
    const s = signed('GET', '/api/tenants/acme/members');
    const { 'x-ws-nonce': _, ...withoutNonce } = s.headers as Record<string, string>;
    const res = await h.request('GET', '/api/tenants/acme/members', { headers: withoutNonce });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/X-WS-Nonce/);
  });
});

describe('Idempotency-Key on host writes', () => {
  it('an honest retry (new signature, same key) gets the first answer without running again', async () => {
    const key = { 'idempotency-key': 'add-bob-0001' };
    const bob = `/api/tenants/acme/members/${encodeURIComponent('bob@school.example')}`;
    const first = await signed('PUT', bob, { role: 'viewer' }, key).send();
    expect(first.status).toBe(201);
    expect(first.body.result).toBe('added');
    // Someone changes Bob's role in between: a re-run would answer 200 "changed"; the retry must not re-run.
    await h.db.doc(paths.member('acme', 'bob@school.example')).update({ role: 'admin' });
    const retry = await signed('PUT', bob, { role: 'viewer' }, key).send();
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await h.db.doc(paths.member('acme', 'bob@school.example')).get()).get('role')).toBe('admin');

    // The same key on a different request is refused, and changes nothing.
    const before = await h.dump();
    const other = await signed('PUT', bob, { role: 'owner' }, key).send();
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await h.dump()).toEqual(before);

    // Keys are per tenant and caller: the other configured key may use the same key for its own request.
    const rotated = hostSignatureHeaders(
      { keyId: 'host-old', secret: 'another-shared-secret-abcdefgh' },
      { method: 'PUT', path: bob, rawBody: JSON.stringify({ role: 'owner' }) },
    );
    const own = await h.request('PUT', bob, {
      rawBody: JSON.stringify({ role: 'owner' }),
      headers: { 'content-type': 'application/json', ...rotated, ...key },
    });
    expect(own.status).toBe(200);
    expect(own.body.result).toBe('changed');
  });

  it('refuses a malformed key', async () => {
    const res = await signed('PUT', member, { role: 'viewer' }, { 'idempotency-key': 'x' }).send();
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_argument', message: /Idempotency-Key header/ });
  });
});
