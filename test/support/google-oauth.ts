import { randomBytes } from 'node:crypto';
import { REQUIRED_SCOPES } from '../../shared/entities.js';
import { newOAuthClient } from '../../functions/src/sources/google/workspace-auth.js';
import type { RuntimeConfig } from '../../functions/src/platform/config.js';

/**
 * Runs the real web-server OAuth flow against the Workspace simulator (auto-approve) with the googleapis
 * client, and returns the refresh token Google would hand us: the same path the connection endpoints take.
 */
export async function authorizeAgainstSimulator(
  config: RuntimeConfig,
  adminEmail: string,
  scopes: readonly string[] = REQUIRED_SCOPES,
): Promise<{ refreshToken: string; accessToken: string; idToken: string | null }> {
  const client = newOAuthClient(config);
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  const state = randomBytes(16).toString('hex');
  const url = client.generateAuthUrl({
    access_type: 'offline',
    prompt: 'consent',
    scope: [...scopes, 'openid', 'email'],
    state,
    login_hint: adminEmail,
    code_challenge: codeChallenge!,
    code_challenge_method: 'S256' as never,
  });
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`authorize did not redirect: ${res.status}`);
  const back = new URL(location);
  if (back.searchParams.get('state') !== state) throw new Error('state was not echoed');
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back.searchParams.get('error')}`);
  const { tokens } = await client.getToken({ code, codeVerifier });
  if (!tokens.refresh_token || !tokens.access_token) throw new Error('no refresh token issued');
  return {
    refreshToken: tokens.refresh_token,
    accessToken: tokens.access_token,
    idToken: tokens.id_token ?? null,
  };
}
