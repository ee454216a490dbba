import { describe, expect, it } from 'vitest';
import {
  EntraError,
  isResyncRequired,
  mapGraphUser,
  parseEntraConnection,
  type DeltaPage,
  type EntraGraphClient,
  type GraphUser,
} from '../../functions/src/sources/entra/index.js';
import { useGraphSimulator } from './graph-test-setup.js';

const env = useGraphSimulator();

async function collectUsers(client: EntraGraphClient, options: { top?: number; select?: string[] } = {}) {
  const pages: GraphUser[][] = [];
  const result = await client.listUsers({ ...options, onPage: (users) => void pages.push(users) });
  return { ...result, pages };
}

async function deltaRound(client: EntraGraphClient, deltaLink?: string) {
  const pages: DeltaPage[] = [];
  const result = await client.deltaUsers({ deltaLink, onPage: (page) => void pages.push(page) });
  return {
    ...result,
    users: pages.flatMap((p) => p.users),
    removed: pages.flatMap((p) => p.removed),
    pageFlags: pages.map((p) => p.fullSync),
  };
}

async function caught(promise: Promise<unknown>): Promise<EntraError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof EntraError) return err;
    throw err;
  }
  throw new Error('expected an EntraError');
}

describe('EntraGraphClient: tokens', () => {
  it('acquires one client-credentials token and reuses it until it is about to expire', async () => {
    const tenant = await env.tenant({ users: 3 });
    let now = Date.now();
    const client = env.client(tenant.tenantId, { clock: () => now });
    const before = (await env.control.stats()).tokensIssued;

    await collectUsers(client);
    await collectUsers(client);
    await Promise.all([collectUsers(client), collectUsers(client)]);
    expect((await env.control.stats()).tokensIssued - before).toBe(1);

    now += 3599_000 - 4 * 60_000; // inside the 5-minute refresh margin
    await collectUsers(client);
    expect((await env.control.stats()).tokensIssued - before).toBe(2);
  });

  it('shares one token request between concurrent first calls', async () => {
    const tenant = await env.tenant({ users: 1 });
    const client = env.client(tenant.tenantId);
    const before = (await env.control.stats()).tokensIssued;
    await Promise.all([collectUsers(client), collectUsers(client), deltaRound(client)]);
    expect((await env.control.stats()).tokensIssued - before).toBe(1);
  });

  it('reports a wrong secret as INVALID_CLIENT without leaking the secret', async () => {
    const tenant = await env.tenant();
    const secret = 'Sup3r~Secret.Value-123456';
    const err = await caught(collectUsers(env.client(tenant.tenantId, { clientSecret: secret })));
    expect(err.code).toBe('INVALID_CLIENT');
    expect(err.details).toMatchObject({ httpStatus: 401, aadCodes: [7000215] });
    expect(err.message).toMatch(/AADSTS7000215/);
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(secret);
    expect(err.cause).toBeUndefined();
  });

  it('reports an unknown tenant as TENANT_NOT_FOUND', async () => {
    const err = await caught(collectUsers(env.client('nowhere.onmicrosoft.com')));
    expect(err.code).toBe('TENANT_NOT_FOUND');
  });

  it('turns revoked admin consent into a clear CONSENT_REQUIRED error, even with a cached token', async () => {
    const tenant = await env.tenant({ users: 2 });
    const client = env.client(tenant.tenantId);
    await collectUsers(client); // caches a token that the revocation kills
    await env.control.revokeConsent(tenant.tenantId, env.app.clientId);

    const err = await caught(collectUsers(client));
    expect(err.code).toBe('CONSENT_REQUIRED');
    expect(err.message).toMatch(/admin consent/i);
    expect(err.message).toContain(tenant.tenantId);
    expect(err.details.aadCodes).toEqual([65001]);
    expect(err.message).not.toContain(env.app.clientSecret);
    expect(err.message).not.toMatch(/eyJ/);
    expect(err.retryable).toBe(false);

    await env.control.grantConsent(tenant.tenantId, env.app.clientId);
    await expect(collectUsers(client)).resolves.toMatchObject({ users: 2 });
  });

  it('keeps the secret and token out of util.inspect and JSON of the client', async () => {
    const tenant = await env.tenant({ users: 1 });
    const client = env.client(tenant.tenantId);
    await collectUsers(client);
    const { inspect } = await import('node:util');
    expect(inspect(client, { depth: 5 })).not.toContain(env.app.clientSecret);
    expect(JSON.stringify(client)).not.toContain(env.app.clientSecret);
  });
});

describe('EntraGraphClient: listUsers', () => {
  it('pages 2,500 users at $top=999 in 3 requests, with only the selected properties', async () => {
    const tenant = await env.tenant({ users: 2_500, seed: 7 });
    const client = env.client(tenant.tenantId);
    const before = (await env.control.stats()).requests.users;

    const { pages, users } = await collectUsers(client, {
      top: 999,
      select: ['id', 'mail', 'userPrincipalName'],
    });
    expect(pages.map((p) => p.length)).toEqual([999, 999, 502]);
    expect(users).toBe(2_500);
    expect((await env.control.stats()).requests.users - before).toBe(3);
    const all = pages.flat();
    expect(new Set(all.map((u) => u.id)).size).toBe(2_500);
    expect(all.every((u) => Object.keys(u).sort().join() === 'id,mail,userPrincipalName')).toBe(true);
  });

  it('maps the overlapping users onto the Google emails, falling back to the UPN when mail is null', async () => {
    const emails = ['Chloe.Dubois@college.example', 'sam.lee@college.example'];
    const tenant = await env.tenant({
      users: 60,
      seed: 3,
      overlapWith: { domain: 'college.example', emails },
    });
    const sam = (await env.control.listUsers(tenant.tenantId)).find(
      (u) => u.userPrincipalName === 'sam.lee@college.example',
    );
    await env.control.updateUser(tenant.tenantId, sam?.id ?? '', { mail: null });

    const { pages } = await collectUsers(env.client(tenant.tenantId));
    const mapped = pages.flat().map(mapGraphUser);
    const emailsSeen = mapped.flatMap((m) => (m.kind === 'person' ? [m.person.email] : []));
    expect(emailsSeen).toEqual(
      expect.arrayContaining(['chloe.dubois@college.example', 'sam.lee@college.example']),
    );
    expect(emailsSeen.every((e) => e === e.toLowerCase().trim())).toBe(true);
    const skipped = mapped.filter((m) => m.kind === 'skipped');
    expect(skipped.every((m) => m.kind === 'skipped' && m.reason === 'guest-without-mail')).toBe(true);
  });
});

describe('EntraGraphClient: deltaUsers', () => {
  it('runs a full round, then returns only changes, additions and removals', async () => {
    const tenant = await env.tenant({ users: 230, seed: 11 });
    const client = env.client(tenant.tenantId);
    const initial = await deltaRound(client);
    expect(initial.fullSync).toBe(true);
    expect(initial.pages).toBe(3); // Graph's default delta page is 100 users
    expect(initial.pageFlags).toEqual([true, true, true]);
    expect(initial.users).toHaveLength(230);
    expect(initial.removed).toEqual([]);

    const nothing = await deltaRound(client, initial.deltaLink);
    expect(nothing).toMatchObject({ fullSync: false, users: [], removed: [] });

    const [renamed, disabled, softDeleted, hardDeleted] = await env.control.listUsers(tenant.tenantId);
    if (!renamed || !disabled || !softDeleted || !hardDeleted) throw new Error('seed too small');
    await env.control.updateUser(tenant.tenantId, renamed.id, { department: 'Robotics', surname: 'Nuñez' });
    await env.control.disableUser(tenant.tenantId, disabled.id);
    await env.control.deleteUser(tenant.tenantId, softDeleted.id);
    await env.control.hardDeleteUser(tenant.tenantId, hardDeleted.id);
    const added = await env.control.addUser(tenant.tenantId, {
      userPrincipalName: `new.starter@${tenant.domain}`,
      mail: `New.Starter@${tenant.domain}`,
      givenName: 'New',
      surname: 'Starter',
    });

    const changes = await deltaRound(client, nothing.deltaLink);
    expect(changes.fullSync).toBe(false);
    const byId = new Map(changes.users.map((u) => [u.id, u]));
    expect([...byId.keys()].sort()).toEqual([renamed.id, disabled.id, added.id].sort());
    expect(byId.get(renamed.id)).toMatchObject({
      department: 'Robotics',
      surname: 'Nuñez',
      userPrincipalName: renamed.userPrincipalName,
    });
    expect(byId.get(disabled.id)?.accountEnabled).toBe(false);
    expect(changes.removed.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: softDeleted.id, reason: 'changed' },
        { id: hardDeleted.id, reason: 'deleted' },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    const person = mapGraphUser(byId.get(added.id) ?? { id: '' });
    expect(person.kind === 'person' && person.person.email).toBe(`new.starter@${tenant.domain}`);

    // A restored user comes back as an ordinary change.
    await env.control.restoreUser(tenant.tenantId, softDeleted.id);
    const restored = await deltaRound(client, changes.deltaLink);
    expect(restored.users.map((u) => u.id)).toEqual([softDeleted.id]);
  });

  it('signals RESYNC_REQUIRED when the delta token expired, and a full round recovers', async () => {
    const tenant = await env.tenant({ users: 20 });
    const client = env.client(tenant.tenantId);
    const { deltaLink } = await deltaRound(client);
    await env.control.expireDeltaTokens(tenant.tenantId);

    const err = await caught(deltaRound(client, deltaLink));
    expect(isResyncRequired(err)).toBe(true);
    expect(err.details).toMatchObject({ httpStatus: 410, graphCode: 'syncStateNotFound' });

    const full = await deltaRound(client);
    expect(full.fullSync).toBe(true);
    expect(full.users).toHaveLength(20);
  });

  it('refuses deltaLinks and nextLinks that point outside the configured Graph origin', async () => {
    const tenant = await env.tenant({ users: 1 });
    const client = env.client(tenant.tenantId);
    const err = await caught(deltaRound(client, 'https://attacker.example/v1.0/users/delta?$deltatoken=x'));
    expect(err.code).toBe('INVALID_ARGUMENT');

    const forged = env.client(tenant.tenantId, {
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        if (!url.includes('/v1.0/users')) return res;
        const body = (await res.json()) as Record<string, unknown>;
        return Response.json({
          ...body,
          '@odata.nextLink': 'https://attacker.example/v1.0/users?$skiptoken=1',
        });
      },
    });
    expect((await caught(collectUsers(forged))).code).toBe('BAD_RESPONSE');
  });
});

describe('EntraGraphClient: throttling and outages', () => {
  it('waits out a 429 for the Retry-After the server sent', async () => {
    const tenant = await env.tenant({ users: 5 });
    const client = env.client(tenant.tenantId);
    await collectUsers(client); // token cached, so the fault hits Graph
    await env.control.injectFault({
      kind: 'throttle',
      count: 1,
      retryAfterSeconds: 1,
      tenantId: tenant.tenantId,
    });
    const before = await env.control.stats();

    const started = performance.now();
    const { users } = await collectUsers(client);
    const elapsed = performance.now() - started;
    expect(users).toBe(5);
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    const after = await env.control.stats();
    expect(after.faultsFired.throttle - before.faultsFired.throttle).toBe(1);
    expect(after.requests.users - before.requests.users).toBe(2);
  });

  it('caps a long Retry-After at maxRetryAfterMs', async () => {
    const tenant = await env.tenant({ users: 1 });
    const waits: number[] = [];
    const client = env.client(tenant.tenantId, {
      retry: { maxRetryAfterMs: 20, sleep: async (ms) => void waits.push(ms) },
    });
    await env.control.injectFault({
      kind: 'throttle',
      count: 1,
      retryAfterSeconds: 3_600,
      tenantId: tenant.tenantId,
    });
    await collectUsers(client);
    expect(waits).toEqual([20]);
  });

  it('retries 503 and 504 with exponential backoff and jitter', async () => {
    const tenant = await env.tenant({ users: 4 });
    const waits: number[] = [];
    const client = env.client(tenant.tenantId, {
      retry: {
        baseDelayMs: 100,
        maxDelayMs: 10_000,
        maxAttempts: 4,
        random: () => 0.5,
        sleep: async (ms) => void waits.push(ms),
      },
    });
    await env.control.injectFault({
      kind: 'unavailable',
      count: 2,
      tenantId: tenant.tenantId,
      pathContains: '/v1.0/users',
    });
    await env.control.injectFault({ kind: 'gatewayTimeout', count: 1, tenantId: tenant.tenantId });
    const { users } = await collectUsers(client);
    expect(users).toBe(4);
    // Attempts 1..3 failed: steps 100, 200, 400 ms, each half fixed plus half jitter (random = 0.5).
    expect(waits).toEqual([75, 150, 300]);
  });

  it('gives up after maxAttempts with a retryable UNAVAILABLE error', async () => {
    const tenant = await env.tenant({ users: 1 });
    const client = env.client(tenant.tenantId);
    await collectUsers(client);
    await env.control.injectFault({ kind: 'unavailable', count: 10, tenantId: tenant.tenantId });
    const err = await caught(collectUsers(client));
    expect(err).toMatchObject({
      code: 'UNAVAILABLE',
      details: { httpStatus: 503, graphCode: 'serviceNotAvailable' },
    });
    expect(err.retryable).toBe(true);
    await env.control.clearFaults();
  });

  it('retries a throttled token endpoint too', async () => {
    const tenant = await env.tenant({ users: 1 });
    await env.control.injectFault({
      kind: 'throttle',
      target: 'identity',
      count: 1,
      retryAfterSeconds: 0,
      tenantId: tenant.tenantId,
    });
    await expect(collectUsers(env.client(tenant.tenantId))).resolves.toMatchObject({ users: 1 });
  });
});

describe('parseEntraConnection', () => {
  const valid = {
    tenantId: 'contoso.onmicrosoft.com',
    clientId: '11111111-2222-4333-8444-555555555555',
    clientSecret: 'abc~123',
  };

  it('defaults to the public Microsoft endpoints', () => {
    expect(parseEntraConnection(valid)).toEqual({
      ...valid,
      authorityBaseUrl: 'https://login.microsoftonline.com',
      graphBaseUrl: 'https://graph.microsoft.com',
    });
  });

  it('rejects plaintext remote endpoints and never echoes the secret', () => {
    const secret = 'very-secret-value';
    let error: unknown;
    try {
      parseEntraConnection({
        ...valid,
        clientSecret: secret,
        clientId: 'nope',
        graphBaseUrl: 'http://graph.example',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EntraError);
    expect((error as EntraError).code).toBe('INVALID_CONFIGURATION');
    expect((error as EntraError).message).toMatch(/clientId/);
    expect((error as EntraError).message).toMatch(/graphBaseUrl/);
    expect((error as EntraError).message).not.toContain(secret);
  });
});
