import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SimFixture } from './helpers.js';
import { authFor, directoryClient, expectApiError, rawGet, startFixture } from './helpers.js';

const USER_RO = 'https://www.googleapis.com/auth/admin.directory.user.readonly';

let f: SimFixture;

beforeAll(async () => {
  f = await startFixture({ domain: 'faults.example', users: 150, chromeos: 40, mobile: 5 });
});

afterEach(async () => {
  await f.control.clearFaults();
  await f.control.setQuota({ userQpm: 2400 });
});

afterAll(async () => {
  await f.sim.close();
});

async function statusCounts(route: string): Promise<Record<string, number>> {
  return (await f.control.getStats()).byRoute[route]?.byStatus ?? {};
}

describe('authentication and authorization errors', () => {
  it('answers a missing or unknown bearer token with Google’s 401 body', async () => {
    for (const token of [undefined, 'ya29.not-a-real-token']) {
      const res = await rawGet(f.sim, '/admin/directory/v1/users?customer=my_customer', token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('invalid_token');
      expect(res.body).toEqual({
        error: {
          code: 401,
          message: expect.stringMatching(/^Request had invalid authentication credentials/),
          errors: [
            {
              message: 'Invalid Credentials',
              domain: 'global',
              reason: 'authError',
              location: 'Authorization',
              locationType: 'header',
            },
          ],
          status: 'UNAUTHENTICATED',
        },
      });
    }
  });

  it('expires access tokens on request', async () => {
    const { auth, accessToken } = await authFor(f.sim, f.control, f.customerId, [
      'https://www.googleapis.com/auth/admin.directory.user.readonly',
    ]);
    const admin = directoryClient(f.sim, auth);
    await admin.users.list({ customer: 'my_customer', maxResults: 1 });
    await f.control.expireAccessToken(accessToken);
    expect((await expectApiError(admin.users.list({ customer: 'my_customer', maxResults: 1 }))).status).toBe(
      401,
    );
  });

  it('checks scopes per resource: 403 insufficientPermissions', async () => {
    const { auth } = await authFor(f.sim, f.control, f.customerId, [
      'https://www.googleapis.com/auth/admin.directory.orgunit.readonly',
    ]);
    const admin = directoryClient(f.sim, auth);
    await admin.orgunits.list({ customerId: 'my_customer' });
    // Made one at a time: a request started early could be refused before anything awaits it (unhandled).
    for (const call of [
      () => admin.users.list({ customer: 'my_customer' }),
      () => admin.chromeosdevices.list({ customerId: 'my_customer' }),
      () => admin.mobiledevices.list({ customerId: 'my_customer' }),
      () => admin.customers.get({ customerKey: 'my_customer' }),
    ]) {
      const err = await expectApiError(call());
      expect(err).toMatchObject({ status: 403, reason: 'insufficientPermissions' });
    }
  });

  it('refuses non-admin users with 403 forbidden', async () => {
    const plain = await f.control.addUser(f.customerId, {
      primaryEmail: `teacher@${f.domain}`,
      givenName: 'Tess',
      familyName: 'Teacher',
    });
    const { auth } = await authFor(
      f.sim,
      f.control,
      f.customerId,
      ['https://www.googleapis.com/auth/admin.directory.user.readonly'],
      plain.primaryEmail ?? '',
    );
    const err = await expectApiError(directoryClient(f.sim, auth).users.list({ customer: 'my_customer' }));
    expect(err).toMatchObject({ status: 403, reason: 'forbidden' });
  });
});

describe('quotas', () => {
  it('returns 403 userRateLimitExceeded past the per-user QPM, which the client does not retry', async () => {
    // A fresh admin: the quota window is per user, and the fixture admin has been busy in this minute.
    const quotaAdmin = await f.control.addUser(f.customerId, {
      primaryEmail: `quota.admin@${f.domain}`,
      givenName: 'Quota',
      familyName: 'Admin',
      isAdmin: true,
    });
    const { auth } = await authFor(f.sim, f.control, f.customerId, [USER_RO], quotaAdmin.primaryEmail ?? '');
    const admin = directoryClient(f.sim, auth);
    await f.control.setQuota({ userQpm: 3 });
    await f.control.resetStats();
    for (let i = 0; i < 3; i++) await admin.users.list({ customer: 'my_customer', maxResults: 1 });
    const err = await expectApiError(admin.users.list({ customer: 'my_customer', maxResults: 1 }));
    expect(err.status).toBe(403);
    expect(err.reason).toBe('userRateLimitExceeded');
    expect(err.body).toMatchObject({
      error: {
        code: 403,
        message: expect.stringContaining(
          "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'",
        ),
        errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded' }],
        status: 'PERMISSION_DENIED',
      },
    });
    expect(await statusCounts('directory.users.list')).toEqual({ '200': 3, '403': 1 });
  });

  it('counts the quota over a configurable window (a minute unless set), sliding', async () => {
    const quotaAdmin = await f.control.addUser(f.customerId, {
      primaryEmail: `window.admin@${f.domain}`,
      givenName: 'Window',
      familyName: 'Admin',
      isAdmin: true,
    });
    const { auth } = await authFor(f.sim, f.control, f.customerId, [USER_RO], quotaAdmin.primaryEmail ?? '');
    const admin = directoryClient(f.sim, auth);
    expect(await f.control.getQuota()).toEqual({ userQpm: 2400, windowMs: 60_000 });
    expect(await f.control.setQuota({ userQpm: 2, windowMs: 1200 })).toEqual({ userQpm: 2, windowMs: 1200 });
    await f.control.resetStats();
    for (let i = 0; i < 2; i++) await admin.users.list({ customer: 'my_customer', maxResults: 1 });
    expect((await expectApiError(admin.users.list({ customer: 'my_customer', maxResults: 1 }))).reason).toBe(
      'userRateLimitExceeded',
    );
    // Once a whole window has passed, the two earlier queries no longer count.
    await new Promise((r) => setTimeout(r, 1300));
    await admin.users.list({ customer: 'my_customer', maxResults: 1 });
    expect(await statusCounts('directory.users.list')).toEqual({ '200': 3, '403': 1 });
    // A PUT without a window is Google's minute again.
    expect(await f.control.setQuota({ userQpm: 2400 })).toEqual({ userQpm: 2400, windowMs: 60_000 });
  });
});

describe('injected faults', () => {
  it.each([
    ['rateLimitExceeded', 429, 'rateLimitExceeded'],
    ['internalError', 500, 'internalError'],
    ['backendError', 503, 'backendError'],
  ] as const)('%s is retried by the client until it succeeds', async (kind, status, reason) => {
    await f.control.resetStats();
    await f.control.setFaults({ faults: [{ kind, count: 2 }] });
    const res = await f.admin.users.list({ customer: 'my_customer', maxResults: 5 });
    expect(res.data.users).toHaveLength(5);
    expect(await statusCounts('directory.users.list')).toEqual({ [String(status)]: 2, '200': 1 });
    // And the body the client saw on the failures carries the reason.
    await f.control.setFaults({ faults: [{ kind, count: 1 }] });
    const raw = await rawGet(f.sim, '/admin/directory/v1/users?customer=my_customer', f.accessToken);
    expect(raw.status).toBe(status);
    expect((raw.body as { error: { errors: Array<{ reason: string }> } }).error.errors[0]?.reason).toBe(
      reason,
    );
  });

  it('503 backendError can be a 500 and is scoped by path', async () => {
    await f.control.resetStats();
    await f.control.setFaults({
      faults: [{ kind: 'backendError', status: 500, count: 1, pathContains: '/devices/chromeos' }],
    });
    await f.admin.users.list({ customer: 'my_customer', maxResults: 1 });
    await f.admin.chromeosdevices.list({ customerId: 'my_customer', maxResults: 1 });
    expect(await statusCounts('directory.users.list')).toEqual({ '200': 1 });
    expect(await statusCounts('directory.chromeosdevices.list')).toEqual({ '500': 1, '200': 1 });
  });

  it('403 quotaExceeded is not retried by default', async () => {
    await f.control.resetStats();
    await f.control.setFaults({ faults: [{ kind: 'quotaExceeded', count: 1 }] });
    const err = await expectApiError(f.admin.users.list({ customer: 'my_customer' }));
    expect(err).toMatchObject({ status: 403, reason: 'quotaExceeded' });
    expect(await statusCounts('directory.users.list')).toEqual({ '403': 1 });
  });

  it('expires the next page token', async () => {
    const first = await f.admin.users.list({ customer: 'my_customer', maxResults: 10 });
    await f.control.setFaults({ faults: [{ kind: 'expiredPageToken', count: 1 }] });
    // Requests without a page token are not affected.
    await f.admin.users.list({ customer: 'my_customer', maxResults: 1 });
    const err = await expectApiError(
      f.admin.users.list({
        customer: 'my_customer',
        maxResults: 10,
        pageToken: first.data.nextPageToken ?? '',
      }),
    );
    expect(err).toMatchObject({ status: 400, reason: 'invalid' });
    // Google's real answer never mentions the page token: just the generic Invalid Input.
    expect(err.body).toEqual({
      error: {
        code: 400,
        message: 'Invalid Input',
        errors: [{ message: 'Invalid Input', domain: 'global', reason: 'invalid' }],
        status: 'INVALID_ARGUMENT',
      },
    });
    const retry = await f.admin.users.list({
      customer: 'my_customer',
      maxResults: 10,
      pageToken: first.data.nextPageToken ?? '',
    });
    expect(retry.data.users).toHaveLength(10);
  });

  it.each(['midBody', 'beforeHeaders'] as const)(
    'recovers from a connection reset (%s) by retrying',
    async (phase) => {
      const expected = (await f.control.getWorkspace(f.customerId)).users;
      await f.control.resetStats();
      await f.control.setFaults({ faults: [{ kind: 'connectionReset', phase, count: 1 }] });
      const res = await f.admin.users.list({ customer: 'my_customer', maxResults: 500 });
      expect(res.data.users).toHaveLength(expected);
      expect(await statusCounts('directory.users.list')).toEqual({ reset: 1, '200': 1 });
    },
  );

  it('adds latency and fires rate-based faults deterministically with a seed', async () => {
    await f.control.setFaults({ faults: [{ kind: 'latency', latencyMs: 150, count: 1 }] });
    const t0 = performance.now();
    await f.admin.customers.get({ customerKey: 'my_customer' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);

    const pattern = async () => {
      await f.control.clearFaults();
      await f.control.setFaults({ seed: 42, faults: [{ kind: 'quotaExceeded', rate: 0.5 }] });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await rawGet(f.sim, '/admin/directory/v1/customers/my_customer', f.accessToken);
        out.push(res.status);
      }
      return out;
    };
    const a = await pattern();
    const b = await pattern();
    expect(a).toEqual(b);
    expect(a).toContain(403);
    expect(a).toContain(200);
  });

  it('draws each delay from a range with the seeded dice and reports the delays it applied', async () => {
    const CUSTOMER = '/admin/directory/v1/customers/my_customer';
    const appliedWith = async (faults: Parameters<typeof f.control.setFaults>[0]) => {
      await f.control.clearFaults();
      await f.control.resetStats();
      await f.control.setFaults(faults);
      for (let i = 0; i < 10; i++) expect((await rawGet(f.sim, CUSTOMER, f.accessToken)).status).toBe(200);
      return (await f.control.getStats()).appliedLatency;
    };
    const spread = (seed: number, latencyDistribution: 'uniform' | 'logNormal') =>
      appliedWith({
        seed,
        faults: [{ kind: 'latency', latencyMs: 2, latencyMaxMs: 40, latencyDistribution, rate: 1 }],
      });

    const fixed = await appliedWith({ faults: [{ kind: 'latency', latencyMs: 3, count: 4 }] });
    expect(fixed).toEqual({
      requests: 4,
      totalMs: 12,
      byRoute: { 'directory.customers.get': { requests: 4, totalMs: 12 } },
    });

    for (const distribution of ['uniform', 'logNormal'] as const) {
      const a = await spread(7, distribution);
      expect(a.requests).toBe(10);
      expect(a.byRoute['directory.customers.get']).toEqual({ requests: 10, totalMs: a.totalMs });
      // Every draw stays in [2, 40]; ten equal draws at either end would mean no spread at all.
      expect(a.totalMs).toBeGreaterThan(10 * 2);
      expect(a.totalMs).toBeLessThan(10 * 40);
      expect((await spread(7, distribution)).totalMs).toBe(a.totalMs);
      expect((await spread(8, distribution)).totalMs).not.toBe(a.totalMs);
    }

    // Requests the fault layer did not delay add nothing, and resetting the stats forgets the sum.
    await f.control.clearFaults();
    await rawGet(f.sim, CUSTOMER, f.accessToken);
    expect((await f.control.getStats()).appliedLatency.requests).toBe(10);
    expect((await f.control.resetStats()).appliedLatency).toEqual({ requests: 0, totalMs: 0, byRoute: {} });
  });

  it('rejects a latency range without a lower end, upside down, or a distribution without a range', async () => {
    for (const fault of [
      { kind: 'latency', latencyMaxMs: 10 },
      { kind: 'latency', latencyMs: 20, latencyMaxMs: 10 },
      { kind: 'latency', latencyMs: 20, latencyDistribution: 'logNormal' },
    ]) {
      const res = await fetch(`${f.sim.url}/_control/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ faults: [fault] }),
      });
      expect(res.status).toBe(400);
    }
    expect((await f.control.getFaults()).faults).toEqual([]);
  });

  it('fails the token endpoint on demand (the auth client retries it)', async () => {
    const token = await f.control.issueToken({
      customerId: f.customerId,
      scopes: ['https://www.googleapis.com/auth/admin.directory.user.readonly'],
      offline: true,
    });
    const { auth } = await authFor(f.sim, f.control, f.customerId, ['openid']);
    auth.setCredentials({ refresh_token: token.refresh_token ?? '' });
    await f.control.resetStats();
    await f.control.setFaults({ failTokenEndpoint: 2 });
    const res = await directoryClient(f.sim, auth).users.list({ customer: 'my_customer', maxResults: 1 });
    expect(res.data.users).toHaveLength(1);
    expect(await statusCounts('oauth.token')).toEqual({ '500': 2, '200': 1 });
  });

  it('rejects invalid control bodies with 400 and the zod issues', async () => {
    const res = await fetch(`${f.sim.url}/_control/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ faults: [{ kind: 'meteorStrike', rate: 2 }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number; issues: Array<{ path: string }> } };
    expect(body.error.code).toBe(400);
    expect(body.error.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['faults.0.kind', 'faults.0.rate']),
    );
    const notJson = await fetch(`${f.sim.url}/_control/workspaces`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
  });
});
