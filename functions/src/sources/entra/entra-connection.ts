import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import type { Db } from '../../store/firestore.js';
import { parseTenantEntra, readTenantEntra, setTenantEntra, type TenantEntra } from '../../store/tenants.js';
import { forgetResumeCursors } from '../../store/sync-state.js';
import { ClientCredentialsTokenProvider } from './client-credentials-token.js';
import { EntraError, type EntraErrorCode } from './entra-error.js';
import type { FetchLike } from './fetch-with-retry.js';
import { resolveRetryPolicy, type RetryOptions } from './retry-policy.js';

export const DEFAULT_AUTHORITY_BASE_URL = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The client secret travels to the authority and tokens to Graph: plaintext HTTP only for a local simulator. */
const baseUrlSchema = z
  .url()
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname));
  }, 'must be https (http only for localhost)')
  .refine((value) => {
    const url = new URL(value);
    return url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  }, 'must be a plain base URL without query, fragment or credentials')
  .transform((value) => value.replace(/\/+$/, ''));

const tenantIdSchema = z
  .string()
  .regex(
    /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/i,
    'must be the directory (tenant) GUID or a verified domain',
  );

export const entraConnectionSchema = z.strictObject({
  tenantId: tenantIdSchema,
  clientId: z.guid('must be the application (client) GUID'),
  clientSecret: z.string().min(1),
  authorityBaseUrl: baseUrlSchema.default(DEFAULT_AUTHORITY_BASE_URL),
  graphBaseUrl: baseUrlSchema.default(DEFAULT_GRAPH_BASE_URL),
});

/** Where and as whom one tenant's Entra directory is read. Base URLs point at the Graph simulator locally. */
export type EntraConnection = z.output<typeof entraConnectionSchema>;
export type EntraConnectionInput = z.input<typeof entraConnectionSchema>;

/** Validates a connection; the error lists paths and rules only, never the submitted values. */
export function parseEntraConnection(input: unknown): EntraConnection {
  const result = entraConnectionSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new EntraError('INVALID_CONFIGURATION', `Invalid Entra connection: ${problems.join('; ')}`);
  }
  return result.data;
}

// ---------------------------------------------------------------------------------------------------------------
// A tenant's Entra connection as stored: metadata on the tenant document (`entra`), the client secret in the
// SecretStore (provider 'entra'), never in Firestore.

// The `entra` metadata is a part of the tenant document: its schema and writes live in store/tenants.ts.
// Re-exported here, where the Entra source's callers (the sync, fan-out, the sync webhook) import them from.
export {
  ENTRA_CONNECTION_STATES,
  parseTenantEntra,
  setEntraState as markEntraState,
  tenantEntraSchema,
  type EntraConnectionState,
  type TenantEntra,
} from '../../store/tenants.js';

export interface EntraConnectionStoreDeps {
  db: Db;
  secrets: SecretStore;
}

export type LoadedEntraConnection =
  | { kind: 'ok'; entra: TenantEntra; connection: EntraConnection }
  | { kind: 'not_connected' }
  | { kind: 'invalid'; reason: string };

/** Metadata from the tenant document + the secret from the SecretStore, validated as an EntraConnection. */
export async function loadEntraConnection(
  deps: EntraConnectionStoreDeps,
  tenantId: string,
  entraValue: unknown,
): Promise<LoadedEntraConnection> {
  const entra = parseTenantEntra(entraValue);
  if (!entra) return { kind: 'not_connected' };
  const clientSecret = await deps.secrets.getRefreshToken(tenantId, 'entra');
  if (!clientSecret) return { kind: 'invalid', reason: 'no stored client secret for the Entra connection' };
  try {
    const connection = parseEntraConnection({
      tenantId: entra.tenantId,
      clientId: entra.clientId,
      clientSecret,
      graphBaseUrl: entra.graphBaseUrl,
      authorityBaseUrl: entra.authorityBaseUrl,
    });
    return { kind: 'ok', entra, connection };
  } catch (err) {
    return { kind: 'invalid', reason: err instanceof Error ? err.message : String(err) };
  }
}

export const GRAPH_ADMIN_CONSENT_SCOPE = 'https://graph.microsoft.com/.default';

export interface AdminConsentUrlInput {
  authorityBaseUrl?: string;
  clientId: string;
  redirectUri: string;
  /** Opaque, unguessable, bound to the admin's session: checked again in completeAdminConsent. */
  state: string;
  /** Directory GUID or domain when known; `organizations` lets the admin's sign-in pick it. */
  tenant?: string;
  /** Pre-selects the admin's directory (required by the simulator with `organizations`). */
  domainHint?: string;
}

/** Where to send a Global Administrator to grant our application admin consent (v2.0 endpoint). */
export function buildAdminConsentUrl(input: AdminConsentUrlInput): string {
  const base = parseBaseUrl(input.authorityBaseUrl ?? DEFAULT_AUTHORITY_BASE_URL, 'authorityBaseUrl');
  const clientId = z.guid().safeParse(input.clientId);
  if (!clientId.success)
    throw new EntraError('INVALID_CONFIGURATION', 'clientId: must be the application (client) GUID');
  const tenant = input.tenant ?? 'organizations';
  if (tenant !== 'organizations' && tenant !== 'common' && !tenantIdSchema.safeParse(tenant).success) {
    throw new EntraError(
      'INVALID_CONFIGURATION',
      'tenant: must be the directory (tenant) GUID or a verified domain',
    );
  }
  try {
    new URL(input.redirectUri);
  } catch {
    throw new EntraError('INVALID_CONFIGURATION', 'redirectUri: must be an absolute URL');
  }
  if (!input.state) throw new EntraError('INVALID_CONFIGURATION', 'state: required');
  const query = new URLSearchParams({
    client_id: clientId.data,
    scope: GRAPH_ADMIN_CONSENT_SCOPE,
    redirect_uri: input.redirectUri,
    state: input.state,
  });
  if (input.domainHint) query.set('domain_hint', input.domainHint);
  return `${base}/${encodeURIComponent(tenant)}/v2.0/adminconsent?${query.toString()}`;
}

export interface CompleteAdminConsentDeps extends EntraConnectionStoreDeps {
  clock: Clock;
  log?: Logger;
  /** Token endpoint transport for the verification (tests, proxies). */
  fetch?: FetchLike;
  retry?: RetryOptions;
}

export interface CompleteAdminConsentInput {
  /** Our tenant (workspace-sync), not the Entra directory. */
  tenantId: string;
  /** The query the consent endpoint redirected back with. */
  callback: URLSearchParams | Record<string, string | undefined>;
  /** The state issued with buildAdminConsentUrl for this admin. */
  expectedState: string;
  clientId: string;
  clientSecret: string;
  authorityBaseUrl?: string;
  graphBaseUrl?: string;
  /** Request a token before recording anything, proving secret and consent (default true). */
  verify?: boolean;
}

export type CompleteAdminConsentResult =
  | { kind: 'connected'; entra: TenantEntra; directoryChanged: boolean }
  | { kind: 'denied'; error: string; description: string | null }
  | { kind: 'invalid'; reason: string }
  | { kind: 'failed'; code: EntraErrorCode; message: string };

/**
 * Handles the admin-consent redirect: checks state, takes the directory id Microsoft reports, optionally proves
 * the connection with a client-credentials token, then stores the client secret (SecretStore, provider
 * 'entra') and the connection metadata on the tenant document (never the secret). Connecting another directory
 * than before clears the Entra delta state, so the next sync is a full one that drops the old directory's people.
 */
export async function completeAdminConsent(
  deps: CompleteAdminConsentDeps,
  input: CompleteAdminConsentInput,
): Promise<CompleteAdminConsentResult> {
  const { callback } = input;
  const q = (name: string): string | null =>
    callback instanceof URLSearchParams ? callback.get(name) : (callback[name] ?? null);
  if (!safeEqual(q('state') ?? '', input.expectedState) || input.expectedState === '') {
    return {
      kind: 'invalid',
      reason: 'the consent response does not belong to this request (state mismatch)',
    };
  }
  const error = q('error');
  if (error) return { kind: 'denied', error, description: q('error_description') };
  if ((q('admin_consent') ?? '').toLowerCase() !== 'true') {
    return { kind: 'invalid', reason: 'the consent response does not confirm admin consent' };
  }
  const directory = q('tenant');
  if (!directory || !tenantIdSchema.safeParse(directory).success) {
    return { kind: 'invalid', reason: 'the consent response does not name the directory (tenant)' };
  }

  let connection: EntraConnection;
  try {
    connection = parseEntraConnection({
      tenantId: directory.toLowerCase(),
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      ...(input.authorityBaseUrl ? { authorityBaseUrl: input.authorityBaseUrl } : {}),
      ...(input.graphBaseUrl ? { graphBaseUrl: input.graphBaseUrl } : {}),
    });
  } catch (err) {
    return { kind: 'invalid', reason: err instanceof Error ? err.message : String(err) };
  }

  if (input.verify !== false) {
    const tokens = new ClientCredentialsTokenProvider(
      connection,
      resolveRetryPolicy(deps.retry),
      deps.fetch ?? ((url, init) => fetch(url, init)),
      () => deps.clock.now(),
    );
    try {
      await tokens.getToken();
    } catch (err) {
      if (err instanceof EntraError) return { kind: 'failed', code: err.code, message: err.message };
      throw err;
    }
  }

  const previous = await readTenantEntra(deps.db, input.tenantId);
  const directoryChanged = previous !== null && previous.tenantId !== connection.tenantId;
  await deps.secrets.putRefreshToken(input.tenantId, connection.clientSecret, 'entra');
  const now = new Date(deps.clock.now()).toISOString();
  const entra: TenantEntra = {
    tenantId: connection.tenantId,
    clientId: connection.clientId,
    graphBaseUrl: connection.graphBaseUrl,
    authorityBaseUrl: connection.authorityBaseUrl,
    connectedAt: now,
    state: 'connected',
    stateReason: null,
    stateChangedAt: now,
  };
  await setTenantEntra(deps.db, input.tenantId, entra);
  // Another directory: the delta links of the old one mean nothing there; the next Entra passes are full.
  if (directoryChanged) await forgetResumeCursors(deps.db, input.tenantId, 'entra');
  deps.log?.info('Microsoft Entra connected', {
    tenantId: input.tenantId,
    directory: connection.tenantId,
    directoryChanged,
  });
  return { kind: 'connected', entra, directoryChanged };
}

function parseBaseUrl(value: string, name: string): string {
  const parsed = baseUrlSchema.safeParse(value);
  if (!parsed.success)
    throw new EntraError('INVALID_CONFIGURATION', `${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
