import type { App } from '../../app.js';
import { markConnectionRevoked } from '../../store/tenants.js';
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
