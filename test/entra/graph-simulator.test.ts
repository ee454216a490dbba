import { describe, expect, it } from 'vitest';
import { GraphSimulatorControlError } from '../../emulators/graph-simulator/index.js';
import { useGraphSimulator } from './graph-test-setup.js';

const env = useGraphSimulator();
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

interface Page {
  '@odata.context': string;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  value: Record<string, unknown>[];
}

async function requestToken(tenant: string, form: Record<string, string>) {
  const res = await fetch(`${env.url}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function graph(path: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(path.startsWith('http') ? path : `${env.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Page & { error?: { code: string; message: string } },
  };
}

describe('identity platform endpoints', () => {
  it('issues client-credentials tokens in the v2.0 shape, by tenant GUID or domain', async () => {
    const tenant = await env.tenant();
    const form = {
      grant_type: 'client_credentials',
      client_id: env.app.clientId,
      client_secret: env.app.clientSecret,
      scope: GRAPH_SCOPE,
    };
    for (const key of [tenant.tenantId, tenant.domain.toUpperCase()]) {
      const { status, body } = await requestToken(key, form);
      expect(status).toBe(200);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
      const [, payload = ''] = String(body.access_token).split('.');
      expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({
        aud: 'https://graph.microsoft.com',
        tid: tenant.tenantId,
        appid: env.app.clientId,
        roles: ['User.Read.All'],
      });
    }
  });

  it('answers failures with AAD error bodies and AADSTS codes', async () => {
    const tenant = await env.tenant();
    const good = {
      grant_type: 'client_credentials',
      client_id: env.app.clientId,
      client_secret: env.app.clientSecret,
      scope: GRAPH_SCOPE,
    };

    const badSecret = await requestToken(tenant.tenantId, { ...good, client_secret: 'wrong' });
    expect(badSecret.status).toBe(401);
    expect(badSecret.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    expect(badSecret.body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    expect(badSecret.body).toHaveProperty('trace_id');
    expect(badSecret.body).toHaveProperty('correlation_id');
    expect(badSecret.body.error_uri).toBe('https://login.microsoftonline.com/error?code=7000215');

    const unknownTenant = await requestToken('00000000-0000-4000-8000-000000000000', good);
    expect(unknownTenant).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_codes: [90002] },
    });

    const badScope = await requestToken(tenant.tenantId, { ...good, scope: 'User.Read.All' });
    expect(badScope).toMatchObject({ status: 400, body: { error: 'invalid_scope', error_codes: [1002012] } });

    const badGrant = await requestToken(tenant.tenantId, { ...good, grant_type: 'password' });
    expect(badGrant).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });

    const noConsent = await env.tenant({ consentedClientIds: [] });
    const denied = await requestToken(noConsent.tenantId, good);
    expect(denied).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_codes: [65001] } });
  });

  it('grants admin consent through the /adminconsent redirect and reports a refusal', async () => {
    const tenant = await env.tenant({ consentedClientIds: [] });
    const consentUrl = (state: string) =>
      `${env.url}/${tenant.tenantId}/adminconsent?client_id=${env.app.clientId}` +
      `&redirect_uri=${encodeURIComponent('https://app.example/entra/callback')}&state=${state}`;

    await env.control.setConsentDecision(tenant.tenantId, 'deny');
    const refused = await fetch(consentUrl('s1'), { redirect: 'manual' });
    expect(refused.status).toBe(302);
    const refusedAt = new URL(refused.headers.get('location') ?? '');
    expect(refusedAt.searchParams.get('error')).toBe('access_denied');
    expect(refusedAt.searchParams.get('state')).toBe('s1');

    await env.control.setConsentDecision(tenant.tenantId, 'approve');
    const granted = await fetch(consentUrl('s2'), { redirect: 'manual' });
    const grantedAt = new URL(granted.headers.get('location') ?? '');
    expect(grantedAt.origin + grantedAt.pathname).toBe('https://app.example/entra/callback');
    expect(Object.fromEntries(grantedAt.searchParams)).toEqual({
      admin_consent: 'True',
      tenant: tenant.tenantId,
      state: 's2',
    });
    expect((await env.control.getTenant(tenant.tenantId)).consentedClientIds).toEqual([env.app.clientId]);
    await expect(env.token(tenant.tenantId)).resolves.toMatch(/\./);
  });

  it('rejects Graph calls without a valid token and after consent is revoked', async () => {
    const tenant = await env.tenant();
    const missing = await fetch(`${env.url}/v1.0/users`);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      'InvalidAuthenticationToken',
    );

    const token = await env.token(tenant.tenantId);
    expect((await graph('/v1.0/users', token)).status).toBe(200);
    await env.control.revokeConsent(tenant.tenantId, env.app.clientId);
    const revoked = await graph('/v1.0/users', token);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error?.code).toBe('InvalidAuthenticationToken');
    await expect(env.token(tenant.tenantId)).rejects.toThrow(/400/);
  });
});

describe('GET /v1.0/users', () => {
  it('returns only the selected properties plus id, with an @odata.context naming them', async () => {
    const tenant = await env.tenant({ users: 3 });
    const token = await env.token(tenant.tenantId);
    const { body, headers } = await graph('/v1.0/users?$select=displayName,MAIL', token);
    expect(headers.get('content-type')).toMatch(/^application\/json;odata\.metadata=minimal/);
    expect(headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(body['@odata.context']).toBe(`${env.url}/v1.0/$metadata#users(displayName,mail)`);
    expect(body.value).toHaveLength(3);
    for (const user of body.value) expect(Object.keys(user).sort()).toEqual(['displayName', 'id', 'mail']);

    const defaults = await graph('/v1.0/users?$top=1', token);
    expect(Object.keys(defaults.body.value[0] ?? {})).toContain('businessPhones');
    expect(Object.keys(defaults.body.value[0] ?? {})).not.toContain('accountEnabled');
  });

  it('validates $top and $select like Graph', async () => {
    const tenant = await env.tenant({ users: 1 });
    const token = await env.token(tenant.tenantId);
    const tooBig = await graph('/v1.0/users?$top=1000', token);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error?.message).toMatch(/between 1 and 999/);
    const unknown = await graph('/v1.0/users?$select=shoeSize', token);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.code).toBe('Request_BadRequest');
  });

  it('pages with absolute @odata.nextLink URLs that keep the query', async () => {
    const tenant = await env.tenant({ users: 25 });
    const token = await env.token(tenant.tenantId);
    const ids = new Set<string>();
    let next: string | undefined = `/v1.0/users?$top=10&$select=id,userPrincipalName`;
    let pages = 0;
    while (next) {
      const { body }: { body: Page } = await graph(next, token);
      pages++;
      for (const user of body.value) ids.add(String(user.id));
      next = body['@odata.nextLink'];
      if (next)
        expect(next).toMatch(
          new RegExp(`^${env.url}/v1\\.0/users\\?\\$top=10&\\$select=id,userPrincipalName&\\$skiptoken=`),
        );
    }
    expect(pages).toBe(3);
    expect(ids.size).toBe(25);
  });

  it('supports the $filter subset used for sync scoping', async () => {
    const tenant = await env.tenant({ users: 40 });
    const token = await env.token(tenant.tenantId);
    const all = (await env.control.listUsers(tenant.tenantId)).length;
    const enabled = await graph(
      '/v1.0/users?$top=999&$filter=accountEnabled eq true&$select=accountEnabled',
      token,
    );
    expect(enabled.body.value.every((u) => u.accountEnabled === true)).toBe(true);
    const disabled = await graph('/v1.0/users?$top=999&$filter=accountEnabled eq false', token);
    expect(enabled.body.value.length + disabled.body.value.length).toBe(all);

    const first = (await env.control.listUsers(tenant.tenantId))[0];
    const prefix = first?.userPrincipalName.slice(0, 3).toUpperCase() ?? '';
    const started = await graph(
      `/v1.0/users?$filter=startswith(userPrincipalName,'${prefix}')&$select=userPrincipalName`,
      token,
    );
    expect(started.body.value.length).toBeGreaterThan(0);
    for (const u of started.body.value)
      expect(String(u.userPrincipalName).toUpperCase().startsWith(prefix)).toBe(true);

    const unsupported = await graph("/v1.0/users?$filter=officeLocation eq 'Remote'", token);
    expect(unsupported).toMatchObject({ status: 400, body: { error: { code: 'Request_UnsupportedQuery' } } });
  });
});

describe('seeded directory data', () => {
  it('is deterministic per seed and has the awkward cases email merging must survive', async () => {
    const a = await env.tenant({ users: 400, seed: 1234 });
    const b = await env.tenant({ users: 400, seed: 1234 });
    const usersA = await env.control.listUsers(a.tenantId);
    const usersB = await env.control.listUsers(b.tenantId);
    const strip = (u: (typeof usersA)[number]) => [
      u.id,
      u.displayName,
      u.mail?.split('@')[0] ?? null,
      u.accountEnabled,
    ];
    expect(usersA.map(strip)).toEqual(usersB.map(strip));

    expect(usersA.some((u) => u.mail === null && u.userType === 'Member')).toBe(true);
    expect(usersA.some((u) => u.mail !== null && u.mail !== u.mail.toLowerCase())).toBe(true);
    expect(usersA.some((u) => u.userType === 'Guest' && u.userPrincipalName.includes('#EXT#'))).toBe(true);
    expect(usersA.some((u) => [...(u.displayName ?? '')].some((c) => c.charCodeAt(0) > 0x7f))).toBe(true);
    expect(usersA.some((u) => !u.accountEnabled)).toBe(true);
    expect(new Set(usersA.map((u) => u.userPrincipalName.toLowerCase())).size).toBe(usersA.length);
  });

  it('creates users whose addresses equal given (Google) emails on an extra verified domain', async () => {
    const emails = ['Alice.Martin@lycee.example', 'bob@lycee.example'];
    const tenant = await env.tenant({ users: 5, overlapWith: { domain: 'lycee.example', emails } });
    expect(tenant.domains).toContain('lycee.example');
    const users = await env.control.listUsers(tenant.tenantId);
    expect(
      users
        .filter((u) => u.mail !== null && emails.includes(u.mail))
        .map((u) => u.userPrincipalName)
        .sort(),
    ).toEqual(['alice.martin@lycee.example', 'bob@lycee.example']);
    expect(users.find((u) => u.mail === 'Alice.Martin@lycee.example')).toMatchObject({
      givenName: 'Alice',
      surname: 'Martin',
    });
  });

  it('validates control requests', async () => {
    await expect(env.control.createTenant({ domain: 'not a domain' })).rejects.toThrow(
      GraphSimulatorControlError,
    );
    const tenant = await env.tenant();
    await expect(
      env.control.addUser(tenant.tenantId, { userPrincipalName: 'x@unverified.example' }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('GET /v1.0/users/delta', () => {
  it('omits never-set properties, includes ones explicitly cleared, and supports $deltatoken=latest', async () => {
    const tenant = await env.tenant({ users: 0 });
    const user = await env.control.addUser(tenant.tenantId, {
      userPrincipalName: `min@${tenant.domain}`,
      jobTitle: 'Teacher',
    });
    const token = await env.token(tenant.tenantId);
    const initial = await graph('/v1.0/users/delta?$select=mail,jobTitle,accountEnabled', token);
    expect(initial.body.value).toEqual([{ id: user.id, jobTitle: 'Teacher', accountEnabled: true }]);
    expect(initial.body['@odata.deltaLink']).toMatch(/\/v1\.0\/users\/delta\?\$deltatoken=/);

    const latest = await graph('/v1.0/users/delta?$deltatoken=latest&$select=jobTitle', token);
    expect(latest.body.value).toEqual([]);

    await env.control.updateUser(tenant.tenantId, user.id, { jobTitle: null });
    const changed = await graph(initial.body['@odata.deltaLink'] ?? '', token);
    expect(changed.body.value).toEqual([{ id: user.id, jobTitle: null, accountEnabled: true }]);
    const sinceLatest = await graph(latest.body['@odata.deltaLink'] ?? '', token);
    expect(sinceLatest.body.value).toEqual([{ id: user.id, jobTitle: null }]);
  });

  it('honours Prefer: odata.maxpagesize and keeps $select inside the state tokens', async () => {
    const tenant = await env.tenant({ users: 12 });
    const token = await env.token(tenant.tenantId);
    const first = await graph('/v1.0/users/delta?$select=userPrincipalName', token, {
      prefer: 'odata.maxpagesize=5',
    });
    expect(first.headers.get('preference-applied')).toBe('odata.maxpagesize=5');
    expect(first.body.value).toHaveLength(5);
    expect(first.body['@odata.nextLink']).not.toContain('$select');
    const second = await graph(first.body['@odata.nextLink'] ?? '', token, { prefer: 'odata.maxpagesize=5' });
    expect(Object.keys(second.body.value[0] ?? {}).sort()).toEqual(['id', 'userPrincipalName']);
  });

  it('lists a user changed several times once, in its latest state, by default', async () => {
    const tenant = await env.tenant({ users: 3 });
    const token = await env.token(tenant.tenantId);
    const { body: initial } = await graph('/v1.0/users/delta?$select=jobTitle', token);
    const [a, b] = initial.value.map((u) => String(u.id));
    await env.control.deleteUser(tenant.tenantId, a!);
    await env.control.restoreUser(tenant.tenantId, a!);
    await env.control.updateUser(tenant.tenantId, b!, { jobTitle: 'Nurse' });
    await env.control.deleteUser(tenant.tenantId, b!);
    const { body } = await graph(initial['@odata.deltaLink'] ?? '', token);
    expect(body.value.map((v) => [v.id, v['@removed'] ?? v.jobTitle ?? null])).toEqual([
      [a, initial.value[0]!.jobTitle ?? null],
      [b, { reason: 'changed' }],
    ]);
  });

  it("'everyChange' lists each change since the token in order: removed, restored, changed, paged", async () => {
    const tenant = await env.tenant({ users: 3 });
    expect(tenant.deltaChanges).toBe('latestState');
    const token = await env.token(tenant.tenantId);
    const { body: initial } = await graph('/v1.0/users/delta?$select=jobTitle', token);
    const [a, b] = initial.value.map((u) => String(u.id));
    expect((await env.control.setDeltaChanges(tenant.tenantId, 'everyChange')).deltaChanges).toBe(
      'everyChange',
    );
    await env.control.deleteUser(tenant.tenantId, a!);
    await env.control.updateUser(tenant.tenantId, b!, { jobTitle: 'Nurse' });
    await env.control.restoreUser(tenant.tenantId, a!);
    await env.control.updateUser(tenant.tenantId, b!, { jobTitle: 'Head Nurse' });
    await env.control.deleteUser(tenant.tenantId, b!);
    await env.control.hardDeleteUser(tenant.tenantId, b!);

    const expected = [
      { id: a, '@removed': { reason: 'changed' } },
      { id: b, jobTitle: 'Nurse' },
      { id: a, ...(initial.value[0]!.jobTitle === null ? {} : { jobTitle: initial.value[0]!.jobTitle }) },
      { id: b, jobTitle: 'Head Nurse' },
      { id: b, '@removed': { reason: 'changed' } },
      { id: b, '@removed': { reason: 'deleted' } },
    ];
    // One page, and the same round in pages of two: the order holds across nextLinks.
    const whole = await graph(initial['@odata.deltaLink'] ?? '', token);
    expect(whole.body.value).toEqual(expected);
    expect(whole.body['@odata.deltaLink']).toBeDefined();
    const paged: Record<string, unknown>[] = [];
    let link: string | undefined = initial['@odata.deltaLink'];
    let pages = 0;
    while (link) {
      const { body } = await graph(link, token, { prefer: 'odata.maxpagesize=2' });
      paged.push(...body.value);
      pages++;
      link = body['@odata.nextLink'] ?? (body['@odata.deltaLink'] ? undefined : link);
    }
    expect(pages).toBe(3);
    expect(paged).toEqual(expected);

    // The next round starts after the last change; switching back coalesces again.
    await env.control.setDeltaChanges(tenant.tenantId, 'latestState');
    await env.control.deleteUser(tenant.tenantId, a!);
    await env.control.restoreUser(tenant.tenantId, a!);
    const next = await graph(whole.body['@odata.deltaLink'] ?? '', token);
    expect(next.body.value.map((v) => v.id)).toEqual([a]);
    expect(next.body.value[0]!['@removed']).toBeUndefined();
  });

  it('answers an expired delta token with 410 syncStateNotFound', async () => {
    const tenant = await env.tenant({ users: 2 });
    const token = await env.token(tenant.tenantId);
    const { body } = await graph('/v1.0/users/delta', token);
    await env.control.expireDeltaTokens(tenant.tenantId);
    const expired = await graph(body['@odata.deltaLink'] ?? '', token);
    expect(expired.status).toBe(410);
    expect(expired.body.error?.code).toBe('syncStateNotFound');
  });
});

describe('fault injection', () => {
  it('throttles with Retry-After and Graph error bodies, then recovers', async () => {
    const tenant = await env.tenant({ users: 1 });
    const token = await env.token(tenant.tenantId);
    await env.control.injectFault({
      kind: 'throttle',
      count: 1,
      retryAfterSeconds: 7,
      tenantId: tenant.tenantId,
    });
    const throttled = await graph('/v1.0/users', token);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(throttled.body.error).toMatchObject({
      code: 'TooManyRequests',
      innerError: { 'request-id': expect.any(String) },
    });
    expect((await graph('/v1.0/users', token)).status).toBe(200);
  });

  it('injects 503 and 504 and adds latency', async () => {
    const tenant = await env.tenant({ users: 1 });
    const token = await env.token(tenant.tenantId);
    await env.control.injectFault({ kind: 'unavailable', count: 1, tenantId: tenant.tenantId });
    await env.control.injectFault({ kind: 'gatewayTimeout', count: 1, tenantId: tenant.tenantId });
    expect((await graph('/v1.0/users', token)).status).toBe(503);
    expect((await graph('/v1.0/users', token)).status).toBe(504);
    await env.control.injectFault({ kind: 'latency', count: 1, latencyMs: 150, tenantId: tenant.tenantId });
    const started = performance.now();
    expect((await graph('/v1.0/users', token)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(await env.control.listFaults()).toEqual([]);
  });

  it('applies rate-based faults reproducibly', async () => {
    const tenant = await env.tenant({ users: 1 });
    const token = await env.token(tenant.tenantId);
    const run = async () => {
      await env.control.injectFault({ kind: 'unavailable', rate: 0.5, seed: 99, tenantId: tenant.tenantId });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await graph('/v1.0/users', token)).status);
      await env.control.clearFaults();
      return statuses;
    };
    const first = await run();
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(await run()).toEqual(first);
  });
});
