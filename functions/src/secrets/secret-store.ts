/**
 * `google` and `entra` name an identity source's stored credential (Google's refresh token, Entra's client
 * secret). The Google connection modes of functions/src/connection/google-credentials.ts add two more:
 * `google_client`, the client secret of the tenant's own OAuth client, and `google_sa`, the tenant's service
 * account key (JSON). The underscore keeps every secret id unambiguous: tenant ids never contain one.
 */
export const IDENTITY_PROVIDERS = ['google', 'entra', 'google_client', 'google_sa'] as const;

/** Which of a tenant's stored credentials; each gets its own secret per tenant. */
export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number];

export interface SecretStore {
  /** Stores a new version of the tenant's secret (creates the secret on first use) and destroys older versions (cost + hygiene). */
  putRefreshToken(tenantId: string, token: string, provider?: IdentityProvider): Promise<{ version: string }>;
  /** Latest enabled version, or null when none exists / all destroyed. */
  getRefreshToken(tenantId: string, provider?: IdentityProvider): Promise<string | null>;
  /** Destroys every version (revocation); idempotent. */
  destroyRefreshToken(tenantId: string, provider?: IdentityProvider): Promise<void>;
  /**
   * The tenant's webhook signing secret (`ws-tenant-<t>-webhook-signing`): stores a new version and destroys
   * older ones, like a refresh token.
   */
  putWebhookSecret(tenantId: string, secret: string): Promise<{ version: string }>;
  /** Latest enabled version, or null when the tenant has none. */
  getWebhookSecret(tenantId: string): Promise<string | null>;
  /** A secret of the service itself by its id (e.g. the SMTP password), or null when it does not exist. */
  getServiceSecret(secretId: string): Promise<string | null>;
}
