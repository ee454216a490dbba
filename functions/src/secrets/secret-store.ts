export const IDENTITY_PROVIDERS = ['google', 'entra'] as const;

/** The identity source whose OAuth refresh token is stored; each gets its own secret per tenant. */
export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number];

export interface SecretStore {
  /** Stores a new version of the tenant's secret (creates the secret on first use) and destroys older versions (cost + hygiene). */
  putRefreshToken(tenantId: string, token: string, provider?: IdentityProvider): Promise<{ version: string }>;
  /** Latest enabled version, or null when none exists / all destroyed. */
  getRefreshToken(tenantId: string, provider?: IdentityProvider): Promise<string | null>;
  /** Destroys every version (revocation); idempotent. */
  destroyRefreshToken(tenantId: string, provider?: IdentityProvider): Promise<void>;
}
