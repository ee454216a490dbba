import { ApiError } from '../../api/api-error.js';
import { shortScope } from '../../connection/connect-errors.js';

/** The Google scopes a tenant's connection holds now: none unless it is connected. */
export function heldGoogleScopes(tenant: { connection?: unknown }): string[] {
  const connection = tenant.connection as { state?: unknown; scopes?: unknown } | null | undefined;
  if (!connection || connection.state !== 'connected' || !Array.isArray(connection.scopes)) return [];
  return connection.scopes.filter((s): s is string => typeof s === 'string');
}

/**
 * The check an API call that needs more than read-only access makes before it does anything: it throws the API's
 * 403 naming every missing scope, so a refused call has changed nothing. `tenant` is the tenant document as
 * stored (the route's TenantScope.raw); the scopes are the ones recorded by the last consent.
 */
export function requireGoogleScopes(tenant: { connection?: unknown }, scopes: readonly string[]): void {
  const held = heldGoogleScopes(tenant);
  const missing = scopes.filter((s) => !held.includes(s)).map(shortScope);
  if (missing.length === 0) return;
  throw new ApiError(
    'permission_denied',
    `This tenant's Google Workspace authorization does not include ${missing.join(', ')}. ` +
      'An owner or admin can turn on device management to grant it.',
    [],
    {},
    { reason: 'missing_google_scopes', missingScopes: missing },
  );
}
