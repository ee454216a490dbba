import { OAuth2Client } from 'google-auth-library';
import type { RuntimeConfig } from '../../platform/config.js';

/** Where a tenant's refresh token comes from (Secret Manager in production and locally, via its emulator). */
export interface RefreshTokenSource {
  getRefreshToken(tenantId: string): Promise<string | null>;
}

export class NotConnectedError extends Error {
  constructor(tenantId: string) {
    super(`tenant ${tenantId} has no stored Google authorization`);
    this.name = 'NotConnectedError';
  }
}

export function newOAuthClient(config: RuntimeConfig): OAuth2Client {
  return new OAuth2Client({
    // A 401 means the cached access token died with a Google-side revoke: refreshing then surfaces invalid_grant
    // at once instead of after the token's hour runs out.
    forceRefreshOnFailure: true,
    clientId: config.oauthClient.clientId,
    clientSecret: config.oauthClient.clientSecret,
    redirectUri: config.oauthClient.redirectUri,
    endpoints: {
      oauth2AuthBaseUrl: config.google.authUrl,
      oauth2TokenUrl: config.google.tokenUrl,
      oauth2RevokeUrl: config.google.revokeUrl,
      oauth2FederatedSignonJwkCertsUrl: config.google.certsUrl,
      oauth2FederatedSignonPemCertsUrl: config.google.pemCertsUrl,
    },
  });
}

interface CachedClient {
  refreshToken: string;
  client: OAuth2Client;
}

/**
 * One OAuth client per tenant and instance. The access token it refreshes lives only in its memory and is
 * reused until it expires; the refresh token is read from the secret store once per cold start (or again
 * after it changed), not per API call.
 */
export class WorkspaceAuth {
  private readonly clients = new Map<string, CachedClient>();

  constructor(
    private readonly config: RuntimeConfig,
    private readonly tokens: RefreshTokenSource,
  ) {}

  async clientFor(tenantId: string): Promise<OAuth2Client> {
    const refreshToken = await this.tokens.getRefreshToken(tenantId);
    if (!refreshToken) {
      this.clients.delete(tenantId);
      throw new NotConnectedError(tenantId);
    }
    const cached = this.clients.get(tenantId);
    if (cached && cached.refreshToken === refreshToken) return cached.client;
    const client = newOAuthClient(this.config);
    client.setCredentials({ refresh_token: refreshToken });
    this.clients.set(tenantId, { refreshToken, client });
    return client;
  }

  /** After a revoke or invalid_grant the cached access token must not be used again. */
  forget(tenantId: string): void {
    this.clients.delete(tenantId);
  }
}
