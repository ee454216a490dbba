import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearedSessionCookie, sessionCookie } from '../../functions/src/api/session-auth.js';
import { CONSOLE_ORIGIN, startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let ownerToken: string;
let viewerEmail: string;

const HOUR = 3600_000;
const csrf = { 'x-requested-with': 'workspace-sync', origin: CONSOLE_ORIGIN };

beforeAll(async () => {
  h = await startApiHarness();
  ownerToken = await h.signIn(h.ws.adminEmail);
  await h.createTenant('acme', h.ws.adminEmail, 'Acme School');
  viewerEmail = await h.addUser('viewer@school.example');
  await h.addMember('acme', viewerEmail, 'viewer');
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  h.clock.offsetMs = 0;
});

const me = (cookie: string) => h.request('GET', '/api/me', { headers: { cookie } });
const sessionDocs = async () => (await h.db.collection('sessions').get()).docs;

describe('console sessions', () => {
  it('a session outlives the one-hour ID token, is extended by use, and ends when idle or at its maximum', async () => {
    const cookie = await h.signInSession(h.ws.adminEmail);
    const first = await me(cookie);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ email: h.ws.adminEmail, session: { expiresAt: expect.any(String) } });
    // The document holds the hash of the id, never the id itself.
    const id = cookie.split('=')[1]!.slice('ws_s_'.length);
    expect((await sessionDocs()).map((d) => d.id)).not.toContain(id);
    expect(JSON.stringify((await sessionDocs()).map((d) => d.data()))).not.toContain(id);

    // Two hours on, the ID token from the same sign-in would be refused; the session is not.
    h.clock.offsetMs = 2 * HOUR;
    expect((await h.request('GET', '/api/me', { token: ownerToken })).status).toBe(401);
    expect((await me(cookie)).status).toBe(200);
    // Used at +2 h, it lives 8 idle hours from then: +9 h is fine, and so on while it is used.
    h.clock.offsetMs = 9 * HOUR;
    expect((await me(cookie)).status).toBe(200);
    // Left alone for more than 8 hours, it has ended.
    h.clock.offsetMs = 17 * HOUR + 60_000;
    const idle = await me(cookie);
    expect(idle.status).toBe(401);
    expect(idle.body.error.message).toMatch(/session has ended/);
  });

  it('ends a week after sign-in however active it is', async () => {
    const cookie = await h.signInSession(h.ws.adminEmail);
    for (let hours = 6; hours < 7 * 24; hours += 6) {
      h.clock.offsetMs = hours * HOUR;
      expect((await me(cookie)).status, `at +${hours} h`).toBe(200);
    }
    h.clock.offsetMs = 7 * 24 * HOUR + 60_000;
    expect((await me(cookie)).status).toBe(401);
  });

  it('refuses cookie-authenticated writes without the CSRF header or from another origin', async () => {
    const cookie = await h.signInSession(h.ws.adminEmail);
    const body = { removalThresholdPercent: 7 };
    const put = (headers: Record<string, string>) =>
      h.request('PUT', '/api/tenants/acme/settings', { headers: { cookie, ...headers }, body });
    const before = await h.dump();
    const noHeader = await put({ origin: CONSOLE_ORIGIN });
    expect(noHeader.status).toBe(403);
    expect(noHeader.body.error.message).toMatch(/x-requested-with: workspace-sync/);
    const otherSite = await put({ 'x-requested-with': 'workspace-sync', origin: 'https://evil.example' });
    expect(otherSite.status).toBe(403);
    expect(otherSite.body.error.message).toMatch(/cross-site/);
    expect(await h.dump()).toEqual(before);
    // Reads need no header; the console's own write passes.
    expect((await h.request('GET', '/api/tenants/acme/settings', { headers: { cookie } })).status).toBe(200);
    const ok = await put(csrf);
    expect(ok.status).toBe(200);
    expect(ok.body.removalThresholdPercent).toBe(7);
    // A bearer token is not sent by a browser on its own: no CSRF header needed.
    const bearer = await h.request('PUT', '/api/tenants/acme/settings', {
      token: ownerToken,
      body: { removalThresholdPercent: null },
    });
    expect(bearer.status).toBe(200);
  });

  it('sign-out ends this session and clears its cookie; other browsers stay signed in', async () => {
    const a = await h.signInSession(h.ws.adminEmail);
    const b = await h.signInSession(h.ws.adminEmail);
    const refused = await h.request('POST', '/api/auth/signout', { headers: { cookie: a } });
    expect(refused.status).toBe(403);
    const out = await h.request('POST', '/api/auth/signout', { headers: { cookie: a, ...csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie()).toEqual([clearedSessionCookie(CONSOLE_ORIGIN)]);
    expect((await me(a)).status).toBe(401);
    expect((await me(b)).status).toBe(200);
    // Signing out again (a stale tab) is harmless.
    expect((await h.request('POST', '/api/auth/signout', { headers: { cookie: a, ...csrf } })).status).toBe(
      200,
    );
  });

  it('sign-out everywhere ends every session of the account, and only of that account', async () => {
    const a = await h.signInSession(h.ws.adminEmail);
    const b = await h.signInSession(h.ws.adminEmail);
    const other = await h.signInSession(viewerEmail);
    const out = await h.request('POST', '/api/auth/signout-everywhere', { headers: { cookie: a, ...csrf } });
    expect(out.status).toBe(200);
    expect(out.body.sessionsEnded).toBeGreaterThanOrEqual(2);
    expect((await me(a)).status).toBe(401);
    expect((await me(b)).status).toBe(401);
    expect((await me(other)).status).toBe(200);
    const left = (await sessionDocs()).map((d) => d.get('email'));
    expect(left).not.toContain(h.ws.adminEmail);
  });

  it('removing a member takes effect on their next request, whatever session they hold', async () => {
    const colleague = await h.addUser('colleague@school.example');
    await h.addMember('acme', colleague, 'admin');
    const cookie = await h.signInSession(colleague);
    expect((await h.request('GET', '/api/tenants/acme', { headers: { cookie } })).status).toBe(200);
    const removed = await h.request('DELETE', `/api/tenants/acme/members/${encodeURIComponent(colleague)}`, {
      token: ownerToken,
    });
    expect(removed.status).toBe(200);
    expect((await h.request('GET', '/api/tenants/acme', { headers: { cookie } })).status).toBe(404);
    expect((await me(cookie)).body.tenants).toEqual([]);
  });

  it('sets Secure except for a console on this machine over plain HTTP', () => {
    expect(sessionCookie('x'.repeat(43), 60, 'https://console.example')).toMatch(/; Secure$/);
    expect(sessionCookie('x'.repeat(43), 60, 'http://127.0.0.1:5000')).not.toMatch(/Secure/);
    expect(sessionCookie('x'.repeat(43), 60, 'http://localhost:5000')).not.toMatch(/Secure/);
    expect(sessionCookie('x'.repeat(43), 60, 'http://console.test')).toMatch(/; Secure$/);
  });

  it('a forged or unknown session cookie is refused like no sign-in at all', async () => {
    for (const cookie of [`__session=ws_s_${'A'.repeat(43)}`, '__session=ws_s_short', '__session=garbage']) {
      const res = await me(cookie);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthenticated');
    }
  });
});
