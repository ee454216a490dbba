import type { App } from '../../app.js';
import { markConnectionRevoked, readGoogleAuth, setGoogleAuthMode } from '../../store/tenants.js';
import { revokeAtGoogle } from './google-oauth.js';
import { stopTenantChannels } from '../../push/channels.js';
import { pushDepsOf } from '../../push/push-deps.js';

export type RevokeResult =
  | { kind: 'revoked'; revokedAt: string; googleGrant: 'revoked' | 'already_invalid' | 'none' }
  | { kind: 'google_unavailable' };

/**
 * Disconnects a tenant from our side: the grant is revoked at Google first (so the authorization is dead even if
 * a copy of the token existed somewhere), then every stored version is destroyed and the tenant is paused, which
 * stops the scheduled and queued syncs. If Google cannot confirm, nothing changes, so it can be retried.
 */
export async function revokeConnection(app: App, tenantId: string, by: string): Promise<RevokeResult> {
  if ((await readGoogleAuth(app.db, tenantId)).mode === 'service_account') {
    return revokeServiceAccount(app, tenantId, by);
  }
  const token = await app.secrets.getRefreshToken(tenantId);
  // While the grant still works: Google stops delivering, and the receiver refuses what is still on its way.
  if (token) await stopTenantChannels(pushDepsOf(app), tenantId);
  let googleGrant: 'revoked' | 'already_invalid' | 'none' = 'none';
  if (token) {
    const outcome = await revokeAtGoogle(app.config, token);
    if (outcome === 'failed') return { kind: 'google_unavailable' };
    googleGrant = outcome;
  }
  await app.secrets.destroyRefreshToken(tenantId);
  app.auth.forget(tenantId);
  const at = new Date(app.clock.now());
  await markConnectionRevoked(app.db, tenantId, by, at);
  const revokedAt = at.toISOString();
  app.log.info('Google Workspace connection revoked', { tenantId, by, googleGrant });
  return { kind: 'revoked', revokedAt, googleGrant };
}

/**
 * A service account has no grant to revoke at Google: the key is destroyed here (and the tenant paused), and the
 * console tells the admin to remove the domain-wide delegation entry and delete the key in the Cloud console.
 * The tenant goes back to the service's OAuth client for a later connection.
 */
async function revokeServiceAccount(app: App, tenantId: string, by: string): Promise<RevokeResult> {
  await stopTenantChannels(pushDepsOf(app), tenantId).catch(() => undefined);
  await app.secrets.destroyRefreshToken(tenantId, 'google_sa');
  app.auth.forget(tenantId);
  await setGoogleAuthMode(app.db, tenantId, 'service_client');
  const at = new Date(app.clock.now());
  await markConnectionRevoked(app.db, tenantId, by, at);
  app.log.info('Google Workspace service-account connection revoked', { tenantId, by });
  return { kind: 'revoked', revokedAt: at.toISOString(), googleGrant: 'none' };
}
