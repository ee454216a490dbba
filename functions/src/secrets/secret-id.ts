import { IDENTITY_PROVIDERS, type IdentityProvider } from './secret-store.js';
import { SecretStoreError } from './secret-store-error.js';

const TENANT_ID = /^[a-z0-9-]{1,40}$/;
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;

export function assertValidTenantId(tenantId: unknown): asserts tenantId is string {
  if (typeof tenantId !== 'string' || !TENANT_ID.test(tenantId)) {
    // The rejected value is deliberately left out: a caller that swaps (tenantId, token) would
    // otherwise put the refresh token into the error message.
    const length = typeof tenantId === 'string' ? `${tenantId.length} characters` : typeof tenantId;
    throw new SecretStoreError(
      'INVALID_TENANT_ID',
      `Invalid tenant id (${length}): expected 1-40 characters of lowercase a-z, 0-9 and '-'.`,
    );
  }
}

export function assertValidProvider(provider: unknown): asserts provider is IdentityProvider {
  if (!IDENTITY_PROVIDERS.includes(provider as IdentityProvider)) {
    throw new SecretStoreError(
      'INVALID_PROVIDER',
      `Invalid identity provider: expected one of ${IDENTITY_PROVIDERS.join(', ')}.`,
    );
  }
}

/**
 * `ws-tenant-<tenantId>-<provider>-refresh`. The provider suffix is drawn from a fixed set, so the id
 * maps back to exactly one (tenant, provider) pair even though tenant ids may contain hyphens.
 */
export function secretIdForTenant(tenantId: string, provider: IdentityProvider = 'google'): string {
  assertValidTenantId(tenantId);
  assertValidProvider(provider);
  const secretId = `ws-tenant-${tenantId}-${provider}-refresh`;
  if (!SECRET_ID.test(secretId)) {
    throw new SecretStoreError(
      'INTERNAL',
      `Derived secret id [${secretId}] is not a valid Secret Manager id.`,
    );
  }
  return secretId;
}

/** `ws-tenant-<tenantId>-webhook-signing`: the key the tenant's outbound webhooks are signed with. */
export function webhookSecretIdForTenant(tenantId: string): string {
  assertValidTenantId(tenantId);
  return `ws-tenant-${tenantId}-webhook-signing`;
}

/** A service-wide secret's id as given in code (e.g. `ws-smtp-password`); checked, never derived from input. */
export function assertServiceSecretId(secretId: string): void {
  if (!SECRET_ID.test(secretId)) {
    throw new SecretStoreError('INTERNAL', 'Invalid service secret id.');
  }
}
