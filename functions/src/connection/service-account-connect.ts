import { randomBytes } from 'node:crypto';
import type { App } from '../app.js';
import { ApiError } from '../api/api-error.js';
import { REQUIRED_SCOPES } from '../../../shared/entities.js';
import { fetchCustomer, revokeAtGoogle } from '../sources/google/google-oauth.js';
import { startInitialSync } from '../sources/google/initial-sync.js';
import { newServiceAccountClient } from '../sources/google/workspace-auth.js';
import {
  readConnectedCustomerId,
  readGoogleAuth,
  readTenant,
  setGoogleAuthMode,
  setTenantConnection,
  type TenantServiceAccount,
} from '../store/tenants.js';
import { storedKeyJson, type ServiceAccountKey } from './google-credentials.js';
import { shortScope } from './connect-errors.js';

/**
 * The third connection mode: a service account with Google Workspace domain-wide delegation, impersonating a
 * named admin. No person's refresh token is involved, so nothing lapses when an admin's session or grant does;
 * what can break is the key (deleted or rotated at Google), the delegation entry (scopes removed) and the
 * impersonated admin (suspended, no longer admin), which the credential health check watches.
 *
 * Connecting (and rotating: the same call with a new key) tries the key first, exactly as syncs will use it, and
 * stores nothing unless Google accepts it: a token for the read-only scopes as the admin, then customers.get.
 */

const DELEGATION_PAGE =
  'Google Admin console > Security > Access and data control > API controls > Manage Domain Wide Delegation';

interface TokenRefusal {
  error: string;
  description: string;
}

function refusalOf(err: unknown): TokenRefusal {
  const data = (err as { response?: { data?: unknown } } | null)?.response?.data as
    { error?: unknown; error_description?: unknown } | undefined;
  const error = typeof data?.error === 'string' && /^[a-z_]{1,64}$/.test(data.error) ? data.error : 'network';
  const description = typeof data?.error_description === 'string' ? data.error_description.slice(0, 300) : '';
  return { error, description };
}

async function tokenRefusal(
  app: App,
  key: ServiceAccountKey,
  subject: string,
  scopes: readonly string[],
): Promise<TokenRefusal | null> {
  try {
    await newServiceAccountClient(app.config, key, subject, scopes).authorize();
    return null;
  } catch (err) {
    return refusalOf(err);
  }
}

/** Each refusal of Google's token endpoint in words naming what to fix and where. */
async function refusalError(
  app: App,
  key: ServiceAccountKey,
  subject: string,
  refusal: TokenRefusal,
): Promise<ApiError> {
  const extra = (reason: string, more: Record<string, unknown> = {}) => ({
    reason,
    googleError: refusal.error,
    ...more,
  });
  if (refusal.error === 'unauthorized_client') {
    // Which scopes the delegation lacks: Google names none, so each is asked for alone.
    const missing: string[] = [];
    for (const scope of REQUIRED_SCOPES) {
      if ((await tokenRefusal(app, key, subject, [scope]))?.error === 'unauthorized_client')
        missing.push(scope);
    }
    const named = (missing.length > 0 ? missing : REQUIRED_SCOPES).map(shortScope);
    return new ApiError(
      'invalid_argument',
      `Domain-wide delegation for client ID ${key.client_id} does not cover ${named.join(', ')} ` +
        `(unauthorized_client). In the ${DELEGATION_PAGE}, add or edit the entry for client ID ` +
        `${key.client_id} with exactly these OAuth scopes: ${REQUIRED_SCOPES.join(',')}`,
      [],
      {},
      extra('delegation_missing_scopes', { missingScopes: named, clientId: key.client_id }),
    );
  }
  if (refusal.error === 'invalid_grant' && /email or user id/i.test(refusal.description)) {
    return new ApiError(
      'invalid_argument',
      `Google cannot impersonate ${subject} (invalid_grant: ${refusal.description}). Name an existing, active ` +
        'administrator of your Google Workspace as the admin to impersonate.',
      [],
      {},
      extra('invalid_subject'),
    );
  }
  if (refusal.error === 'invalid_grant' && /signature|account not found/i.test(refusal.description)) {
    return new ApiError(
      'invalid_argument',
      `Google does not accept this key of ${key.client_email} (invalid_grant: ${refusal.description}). The key ` +
        'or the service account may have been deleted. In the Google Cloud console, open IAM & Admin > Service ' +
        'accounts > Keys, add a new JSON key and upload it here.',
      [],
      {},
      extra('invalid_key'),
    );
  }
  if (refusal.error === 'invalid_grant') {
    return new ApiError(
      'invalid_argument',
      `Google refused the key's assertion (invalid_grant: ${refusal.description}).`,
      [],
      {},
      extra('invalid_grant'),
    );
  }
  return new ApiError(
    'unavailable',
    `Google's token endpoint did not issue a token (${refusal.error}); nothing was changed. Try again.`,
    [],
    {},
    extra('unavailable'),
  );
}

export interface ServiceAccountInput {
  key: ServiceAccountKey;
  subject: string;
  source: 'uploaded' | 'host';
  by: string;
}

export interface ServiceAccountConnected {
  customerId: string;
  domain: string;
  clientEmail: string;
  clientId: string;
  keyId: string;
  subject: string;
  initialSyncs: number;
}

/** Connect (or rotate the key of) a tenant's service-account connection. */
export async function connectServiceAccount(
  app: App,
  tenantId: string,
  input: ServiceAccountInput,
): Promise<ServiceAccountConnected> {
  const { key, subject } = input;
  const refusal = await tokenRefusal(app, key, subject, REQUIRED_SCOPES);
  if (refusal) {
    app.log.warn('service account refused by Google', {
      tenantId,
      clientEmail: key.client_email,
      googleError: refusal.error,
    });
    throw await refusalError(app, key, subject, refusal);
  }
  let customer;
  try {
    customer = await fetchCustomer(app.config, newServiceAccountClient(app.config, key, subject));
  } catch {
    throw new ApiError(
      'invalid_argument',
      `${subject} cannot read the Google Workspace directory (customers.get was refused). Impersonate a ` +
        'Google Workspace administrator.',
      [],
      {},
      { reason: 'not_workspace_admin' },
    );
  }
  const previousCustomer = await readConnectedCustomerId(app.db, tenantId);
  if (previousCustomer !== null && previousCustomer !== customer.customerId) {
    throw new ApiError(
      'invalid_argument',
      'This tenant is connected to a different Google Workspace organization; impersonate an administrator of that organization.',
      [],
      {},
      { reason: 'customer_mismatch' },
    );
  }

  const previous = await readGoogleAuth(app.db, tenantId);
  // A new key for a working service-account connection is a rotation: no initial sync is due.
  const rotation =
    previous.mode === 'service_account' && (await readTenant(app.db, tenantId))?.status === 'active';
  await app.secrets.putRefreshToken(tenantId, storedKeyJson(key), 'google_sa');
  if (previous.mode !== 'service_account') {
    // A clean switch from an OAuth connection: its grant ends at Google and its refresh token is destroyed.
    const refreshToken = await app.secrets.getRefreshToken(tenantId, 'google');
    if (refreshToken && (await revokeAtGoogle(app.config, refreshToken)) === 'failed')
      app.log.warn("could not revoke the previous OAuth connection's grant at Google", { tenantId });
    await app.secrets.destroyRefreshToken(tenantId, 'google');
  }
  app.auth.forget(tenantId);
  const now = new Date(app.clock.now());
  const serviceAccount: TenantServiceAccount = {
    clientEmail: key.client_email,
    clientId: key.client_id,
    keyId: key.private_key_id,
    subject,
    source: input.source,
    savedAt: now.toISOString(),
    savedBy: input.by,
  };
  await setGoogleAuthMode(app.db, tenantId, 'service_account', serviceAccount);
  await setTenantConnection(
    app.db,
    tenantId,
    {
      customerId: customer.customerId,
      domain: customer.domain,
      adminEmail: subject,
      scopes: [...REQUIRED_SCOPES],
      connectedBy: input.by,
    },
    now,
  );
  const started = rotation
    ? []
    : await startInitialSync(app, tenantId, `sa-${randomBytes(12).toString('base64url')}`);
  app.log.info(
    rotation ? 'service account key rotated' : 'Google Workspace connected with a service account',
    {
      tenantId,
      clientEmail: key.client_email,
      keyId: key.private_key_id,
      subject,
      source: input.source,
      initialSyncs: started.length,
    },
  );
  return {
    customerId: customer.customerId,
    domain: customer.domain,
    clientEmail: key.client_email,
    clientId: key.client_id,
    keyId: key.private_key_id,
    subject,
    initialSyncs: started.length,
  };
}
