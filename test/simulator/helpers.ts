import { google } from 'googleapis';
import type { admin_directory_v1 } from 'googleapis';
import type { SimulatorHandle } from '../../emulators/workspace-simulator/index.js';
import {
  DEFAULT_OAUTH_CLIENT,
  READONLY_DIRECTORY_SCOPES,
  SimulatorControl,
  startWorkspaceSimulator,
} from '../../emulators/workspace-simulator/index.js';

export type OAuth2Client = InstanceType<typeof google.auth.OAuth2>;
export const REDIRECT_URI = 'http://127.0.0.1:53682/oauth/callback';

/** The real google-auth-library client, with every endpoint pointed at the simulator. */
export function simulatorOAuthClient(
  sim: SimulatorHandle,
  overrides: { clientId?: string; clientSecret?: string } = {},
) {
  return new google.auth.OAuth2({
    clientId: overrides.clientId ?? DEFAULT_OAUTH_CLIENT.clientId,
    clientSecret: overrides.clientSecret ?? DEFAULT_OAUTH_CLIENT.clientSecret,
    redirectUri: REDIRECT_URI,
    issuers: [sim.url],
    endpoints: {
      oauth2AuthBaseUrl: `${sim.url}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${sim.url}/token`,
      oauth2RevokeUrl: `${sim.url}/revoke`,
      tokenInfoUrl: `${sim.url}/oauth2/v3/tokeninfo`,
      // Under Node google-auth-library fetches the PEM map; browsers use the JWK set.
      oauth2FederatedSignonPemCertsUrl: `${sim.url}/oauth2/v1/certs`,
      oauth2FederatedSignonJwkCertsUrl: `${sim.url}/oauth2/v3/certs`,
    },
  });
}

export function directoryClient(sim: SimulatorHandle, auth: OAuth2Client): admin_directory_v1.Admin {
  return google.admin({ version: 'directory_v1', auth, rootUrl: `${sim.url}/` });
}

export interface SimFixture {
  sim: SimulatorHandle;
  control: SimulatorControl;
  customerId: string;
  domain: string;
  adminEmail: string;
  /** An OAuth2Client holding an access token (no refresh token, so the client never re-auths on 401/403). */
  auth: OAuth2Client;
  admin: admin_directory_v1.Admin;
  accessToken: string;
}

/** Starts a simulator with one workspace and a ready-to-use Directory client for its admin. */
export async function startFixture(
  spec: { domain: string; users?: number; chromeos?: number; mobile?: number; seed?: number },
  scopes: readonly string[] = READONLY_DIRECTORY_SCOPES,
): Promise<SimFixture> {
  const sim = await startWorkspaceSimulator({ port: 0 });
  const control = new SimulatorControl(sim.url);
  const ws = await control.createWorkspace(spec);
  const { auth, accessToken } = await authFor(sim, control, ws.customerId, scopes);
  return { sim, control, ...ws, auth, admin: directoryClient(sim, auth), accessToken };
}

export async function authFor(
  sim: SimulatorHandle,
  control: SimulatorControl,
  customerId: string,
  scopes: readonly string[],
  userEmail?: string,
): Promise<{ auth: OAuth2Client; accessToken: string }> {
  const token = await control.issueToken({
    customerId,
    scopes: [...scopes],
    ...(userEmail ? { userEmail } : {}),
  });
  const auth = simulatorOAuthClient(sim);
  auth.setCredentials({ access_token: token.access_token, expiry_date: token.expiry_date });
  return { auth, accessToken: token.access_token };
}

/** GaxiosError details without depending on gaxios' types. */
export function errorOf(err: unknown): { status: number; reason: string | undefined; body: unknown } {
  const e = err as { status?: number; response?: { status?: number; data?: unknown } };
  const body = e.response?.data;
  const reason = (body as { error?: { errors?: Array<{ reason?: string }> } } | undefined)?.error?.errors?.[0]
    ?.reason;
  return { status: e.status ?? e.response?.status ?? 0, reason, body };
}

export async function expectApiError(promise: Promise<unknown>): Promise<ReturnType<typeof errorOf>> {
  try {
    await promise;
  } catch (err) {
    return errorOf(err);
  }
  throw new Error('expected the call to fail');
}

/** Raw HTTP against the simulator with a bearer token (for shapes the client library hides). */
export async function rawGet(sim: SimulatorHandle, path: string, token?: string) {
  const res = await fetch(`${sim.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
