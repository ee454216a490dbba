import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceAccountKeyFile, SimulatorHandle } from '../../emulators/workspace-simulator/index.js';
import {
  READONLY_DIRECTORY_SCOPES,
  SimulatorControl,
  startWorkspaceSimulator,
} from '../../emulators/workspace-simulator/index.js';

/**
 * The simulator's JWT-bearer grant (Google's "OAuth 2.0 for Server to Server Applications" with domain-wide
 * delegation): assertions signed here with jose, answered as Google answers them.
 */

const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SA = 'sync-bot@school-project.iam.gserviceaccount.com';
const USERS_RO = 'https://www.googleapis.com/auth/admin.directory.user.readonly';
const DEVICES_RO = 'https://www.googleapis.com/auth/admin.directory.device.chromeos.readonly';

let sim: SimulatorHandle;
let control: SimulatorControl;
let ws: { customerId: string; domain: string; adminEmail: string };
let clientId: string;
let key: ServiceAccountKeyFile;

beforeAll(async () => {
  sim = await startWorkspaceSimulator({ port: 0 });
  control = new SimulatorControl(sim.url);
  ws = await control.createWorkspace({ domain: 'sa-school.example', users: 20, chromeos: 3 });
  clientId = (await control.createServiceAccount({ clientEmail: SA })).clientId;
  key = await control.createServiceAccountKey(SA);
});
afterAll(async () => {
  await sim.close();
});

async function assertion(
  claims: Record<string, unknown>,
  opts: { key?: ServiceAccountKeyFile; iat?: number; exp?: number } = {},
) {
  const k = opts.key ?? key;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: USERS_RO, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: k.private_key_id, typ: 'JWT' })
    .setIssuer(k.client_email)
    .setAudience('https://oauth2.googleapis.com/token')
    .setIssuedAt(opts.iat ?? now)
    .setExpirationTime(opts.exp ?? now + 3600)
    .sign(createPrivateKey(k.private_key));
}

async function token(jwt: string) {
  const res = await fetch(`${sim.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: GRANT, assertion: jwt }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('JWT-bearer grant', () => {
  it('without a delegation entry for the client id: 401 unauthorized_client, in Google words', async () => {
    const res = await token(await assertion({ sub: ws.adminEmail }));
    expect(res).toEqual({
      status: 401,
      body: {
        error: 'unauthorized_client',
        error_description:
          'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
      },
    });
  });

  it('issues a token for delegated scopes only; the token reads the directory as the impersonated admin', async () => {
    await control.setDomainWideDelegation(ws.customerId, { clientId, scopes: [USERS_RO] });
    const ok = await token(await assertion({ sub: ws.adminEmail }));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(ok.body.refresh_token).toBeUndefined();
    const users = await fetch(`${sim.url}/admin/directory/v1/users?customer=my_customer&maxResults=1`, {
      headers: { authorization: `Bearer ${ok.body.access_token as string}` },
    });
    expect(users.status).toBe(200);
    // A scope outside the delegation: the whole request is refused.
    const wider = await token(await assertion({ sub: ws.adminEmail, scope: `${USERS_RO} ${DEVICES_RO}` }));
    expect(wider.status).toBe(401);
    expect(wider.body.error).toBe('unauthorized_client');
  });

  it('refuses a bad signature, an unknown or suspended subject, a long-lived or expired assertion, and no scope', async () => {
    await control.setDomainWideDelegation(ws.customerId, {
      clientId,
      scopes: [...READONLY_DIRECTORY_SCOPES],
    });
    const other = await control.createServiceAccountKey(SA);
    // Signed with another key but naming this one's kid.
    const forged = await assertion(
      { sub: ws.adminEmail },
      { key: { ...other, private_key_id: key.private_key_id } },
    );
    expect(await token(forged)).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
    });

    expect((await token(await assertion({ sub: `ghost@${ws.domain}` }))).body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid email or User ID',
    });
    const suspended = await control.addUser(ws.customerId, {
      primaryEmail: `sus@${ws.domain}`,
      givenName: 'Sus',
      familyName: 'Pended',
      isAdmin: true,
      suspended: true,
    });
    expect((await token(await assertion({ sub: suspended.primaryEmail }))).body.error).toBe('invalid_grant');

    const now = Math.floor(Date.now() / 1000);
    const longLived = await token(await assertion({ sub: ws.adminEmail }, { iat: now, exp: now + 7200 }));
    expect(longLived.status).toBe(400);
    expect(longLived.body.error_description).toMatch(
      /^Invalid JWT: Token must be a short-lived token \(60 minutes\)/,
    );
    const expired = await token(
      await assertion({ sub: ws.adminEmail }, { iat: now - 7200, exp: now - 3600 }),
    );
    expect(expired.body.error).toBe('invalid_grant');

    expect((await token(await assertion({ sub: ws.adminEmail, scope: '' }))).body).toEqual({
      error: 'invalid_scope',
      error_description: 'Empty or missing scope not allowed.',
    });
    // A deleted key stops verifying.
    await control.deleteServiceAccountKey(SA, other.private_key_id);
    expect(
      (await token(await assertion({ sub: ws.adminEmail }, { key: other }))).body.error_description,
    ).toBe('Invalid JWT Signature.');
    expect((await token('not-a-jwt')).body.error).toBe('invalid_grant');
  });

  it('a delegated admin whose role lacks a privilege gets 403 forbidden for that resource only', async () => {
    await control.setDomainWideDelegation(ws.customerId, {
      clientId,
      scopes: [...READONLY_DIRECTORY_SCOPES],
    });
    const helpdesk = await control.addUser(ws.customerId, {
      primaryEmail: `helpdesk@${ws.domain}`,
      givenName: 'Help',
      familyName: 'Desk',
      isDelegatedAdmin: true,
      adminPrivileges: ['USERS_RETRIEVE'],
    });
    const res = await token(
      await assertion({ sub: helpdesk.primaryEmail, scope: READONLY_DIRECTORY_SCOPES.join(' ') }),
    );
    const auth = { authorization: `Bearer ${res.body.access_token as string}` };
    const users = await fetch(`${sim.url}/admin/directory/v1/users?customer=my_customer&maxResults=1`, {
      headers: auth,
    });
    expect(users.status).toBe(200);
    const devices = await fetch(
      `${sim.url}/admin/directory/v1/customer/my_customer/devices/chromeos?maxResults=1`,
      {
        headers: auth,
      },
    );
    expect(devices.status).toBe(403);
    expect(
      ((await devices.json()) as { error: { errors: Array<{ reason: string }>; message: string } }).error,
    ).toMatchObject({
      message: 'Not Authorized to access this resource/api',
      errors: [{ reason: 'forbidden' }],
    });
  });
});
