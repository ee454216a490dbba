import { JWT, OAuth2Client } from 'google-auth-library';
import { REQUIRED_SCOPES } from '../../../../shared/entities.js';
import {
  credentialIdentity,
  loadGoogleCredential,
  type GoogleCredential,
  type ServiceAccountKey,
} from '../../connection/google-credentials.js';
import type { RuntimeConfig } from '../../platform/config.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import type { GoogleAuthSettings } from '../../store/tenants.js';

/** Where a tenant's refresh token comes from (Secret Manager in production and locally, via its emulator). */
export type RefreshTokenSource = Pick<SecretStore, 'getRefreshToken'>;

export class NotConnectedError extends Error {
  constructor(tenantId: string) {
    super(`tenant ${tenantId} has no stored Google authorization`);
    this.name = 'NotConnectedError';
  }
}

/** Which OAuth client authorizes: the service's own (configuration) or the tenant's (id + secret). */
export interface OAuthClientCredentials {
  clientId: string;
  clientSecret: string;
}

export const serviceClientOf = (config: RuntimeConfig): OAuthClientCredentials => ({
  clientId: config.oauthClient.clientId,
  clientSecret: config.oauthClient.clientSecret,
});

export function newOAuthClient(
  config: RuntimeConfig,
  client: OAuthClientCredentials = serviceClientOf(config),
): OAuth2Client {
  return new OAuth2Client({
    // A 401 means the cached access token died with a Google-side revoke: refreshing then surfaces invalid_grant
    // at once instead of after the token's hour runs out.
    forceRefreshOnFailure: true,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
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

/** The token endpoint google-auth-library's JWT client posts to and names as the assertion's audience. */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/**
 * A service account impersonating `subject` (domain-wide delegation), signing its assertions with
 * google-auth-library's JWT client. That client always posts to Google's token URL (it has no endpoint option);
 * locally the configured token endpoint is the simulator, so the request, and only that one, is sent there. The
 * assertion's audience stays Google's URL, which the simulator accepts as Google does.
 */
export function newServiceAccountClient(
  config: RuntimeConfig,
  key: ServiceAccountKey,
  subject: string,
  scopes: readonly string[] = REQUIRED_SCOPES,
): JWT {
  const client = new JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: key.private_key_id,
    subject,
    scopes: [...scopes],
    // Like the OAuth clients: after a 401 ask for a new token at once (delegation or the admin may be gone).
    forceRefreshOnFailure: true,
  });
  if (config.google.tokenUrl !== GOOGLE_TOKEN_URL) {
    client.transporter.interceptors.request.add({
      resolved: async (options) => {
        if (String(options.url) === GOOGLE_TOKEN_URL) options.url = new URL(config.google.tokenUrl);
        return options;
      },
    });
  }
  return client;
}

/** The client a credential authorizes Directory calls with. */
export function clientForCredential(config: RuntimeConfig, credential: GoogleCredential): OAuth2Client {
  switch (credential.mode) {
    case 'service_account':
      return newServiceAccountClient(config, credential.key, credential.subject);
    case 'tenant_client': {
      const client = newOAuthClient(config, credential);
      client.setCredentials({ refresh_token: credential.refreshToken });
      return client;
    }
    case 'service_client': {
      const client = newOAuthClient(config);
      client.setCredentials({ refresh_token: credential.refreshToken });
      return client;
    }
  }
}

interface CachedClient {
  identity: string;
  client: OAuth2Client;
}

/**
 * One Google client per tenant and instance, of the tenant's connection mode (the service's OAuth client, the
 * tenant's own OAuth client, or a service account with domain-wide delegation). The access token it obtains
 * lives only in its memory and is reused until it expires; the credential is read again on every call (tenant
 * document + Secret Manager) so a reconnect, a mode switch or a key rotation takes effect at once.
 */
export class WorkspaceAuth {
  private readonly clients = new Map<string, CachedClient>();

  constructor(
    private readonly config: RuntimeConfig,
    private readonly tokens: RefreshTokenSource,
    /** The tenant's connection mode; absent, every tenant uses the service's OAuth client. */
    private readonly settings?: (tenantId: string) => Promise<GoogleAuthSettings>,
  ) {}

  private async credential(tenantId: string): Promise<GoogleCredential | null> {
    if (!this.settings) {
      const refreshToken = await this.tokens.getRefreshToken(tenantId);
      return refreshToken ? { mode: 'service_client', refreshToken } : null;
    }
    return loadGoogleCredential({ secrets: this.tokens, readGoogleAuth: this.settings }, tenantId);
  }

  async clientFor(tenantId: string): Promise<OAuth2Client> {
    const credential = await this.credential(tenantId);
    if (!credential) {
      this.clients.delete(tenantId);
      throw new NotConnectedError(tenantId);
    }
    const identity = credentialIdentity(credential);
    const cached = this.clients.get(tenantId);
    if (cached && cached.identity === identity) return cached.client;
    const client = clientForCredential(this.config, credential);
    this.clients.set(tenantId, { identity, client });
    return client;
  }

  /** After a revoke or invalid_grant the cached access token must not be used again. */
  forget(tenantId: string): void {
    this.clients.delete(tenantId);
  }
}
