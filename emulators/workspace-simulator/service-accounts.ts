import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { AccessTokenRecord } from './oauth-state.js';
import type { SimulatorState } from './state.js';

/**
 * Service accounts and Google Workspace domain-wide delegation, as Google's token endpoint sees them: the
 * JWT-bearer grant of "Using OAuth 2.0 for Server to Server Applications" (RFC 7523). A service account has
 * keys (the simulator keeps only their public halves, like Google); a Workspace admin authorizes the account's
 * numeric client id for a set of scopes (Admin console > Security > API controls > Domain-wide delegation).
 *
 * The assertion is verified with `jose` (signature RS256 against the key named by `kid`, then the claims); the
 * errors are the ones Google answers, with Google's wording where it is known from its documentation and
 * widely quoted responses (see each below).
 */

/** The audience Google documents for the assertion; the simulator's own token URL is accepted too. */
export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google refuses assertions valid for more than an hour. */
const MAX_ASSERTION_LIFETIME_S = 3600;
/** Clock skew the simulator tolerates on iat/exp (Google does not publish its own figure). */
const CLOCK_SKEW_S = 300;

export interface ServiceAccount {
  clientEmail: string;
  /** The numeric "OAuth 2 client ID" the Admin console's domain-wide delegation page asks for. */
  clientId: string;
  projectId: string;
  keys: Map<string, KeyObject>;
}

/** The key file the Cloud console lets one download ("Keys > Add key > JSON"). */
export interface ServiceAccountKeyFile {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: 'googleapis.com';
}

export class ServiceAccounts {
  private readonly accounts = new Map<string, ServiceAccount>();
  /** customerId -> service account client id -> delegated scopes. */
  private readonly delegations = new Map<string, Map<string, Set<string>>>();

  reset(): void {
    this.accounts.clear();
    this.delegations.clear();
  }

  create(input: { clientEmail: string; projectId?: string | undefined }): ServiceAccount {
    const existing = this.accounts.get(input.clientEmail);
    if (existing) return existing;
    // Google's service account client ids are 21-digit numbers.
    const clientId = `1${[...randomBytes(20)].map((b) => String(b % 10)).join('')}`;
    const account: ServiceAccount = {
      clientEmail: input.clientEmail,
      clientId,
      projectId: input.projectId ?? input.clientEmail.split('@')[1]?.split('.')[0] ?? 'project',
      keys: new Map(),
    };
    this.accounts.set(account.clientEmail, account);
    return account;
  }

  get(clientEmail: string): ServiceAccount | undefined {
    return this.accounts.get(clientEmail);
  }

  /** A new key pair; Google, like this, keeps only the public key and hands the private key out once. */
  createKey(account: ServiceAccount, baseUrl: string): ServiceAccountKeyFile {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyId = randomBytes(20).toString('hex');
    account.keys.set(keyId, publicKey);
    return {
      type: 'service_account',
      project_id: account.projectId,
      private_key_id: keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: account.clientEmail,
      client_id: account.clientId,
      auth_uri: `${baseUrl}/o/oauth2/auth`,
      token_uri: `${baseUrl}/token`,
      auth_provider_x509_cert_url: `${baseUrl}/oauth2/v1/certs`,
      client_x509_cert_url: `${baseUrl}/robot/v1/metadata/x509/${encodeURIComponent(account.clientEmail)}`,
      universe_domain: 'googleapis.com',
    };
  }

  deleteKey(account: ServiceAccount, keyId: string): boolean {
    return account.keys.delete(keyId);
  }

  /** Replaces the scopes a customer's admin authorized for a client id; an empty list removes the entry. */
  setDelegation(customerId: string, clientId: string, scopes: readonly string[]): void {
    const byClient = this.delegations.get(customerId) ?? new Map<string, Set<string>>();
    if (scopes.length === 0) byClient.delete(clientId);
    else byClient.set(clientId, new Set(scopes));
    this.delegations.set(customerId, byClient);
  }

  delegatedScopes(customerId: string, clientId: string): Set<string> | undefined {
    return this.delegations.get(customerId)?.get(clientId);
  }
}

export type JwtBearerOutcome =
  { ok: true; access: AccessTokenRecord } | { ok: false; status: number; error: string; description: string };

const refuse = (status: number, error: string, description: string): JwtBearerOutcome => ({
  ok: false,
  status,
  error,
  description,
});

// Google's answers (error, error_description) to assertions it refuses.
const INVALID_SIGNATURE = () => refuse(400, 'invalid_grant', 'Invalid JWT Signature.');
const NOT_SHORT_LIVED = () =>
  refuse(
    400,
    'invalid_grant',
    'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
  );
/**
 * A `sub` that is no user Google can impersonate. Google's answer for an unknown subject; the simulator gives the
 * same for a suspended or deleted one (Google does not document a separate text for them).
 */
const INVALID_SUBJECT = () => refuse(400, 'invalid_grant', 'Invalid email or User ID');
/** Delegation missing, or not covering every scope asked for (Google answers 401 here). */
const UNAUTHORIZED_CLIENT = () =>
  refuse(
    401,
    'unauthorized_client',
    'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
  );

/** `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>` at the token endpoint. */
export async function jwtBearerGrant(
  state: SimulatorState,
  assertion: string | null,
  nowMs = Date.now(),
): Promise<JwtBearerOutcome> {
  if (!assertion) return refuse(400, 'invalid_request', 'Missing required parameter: assertion');
  let kid: string | undefined;
  let iss: unknown;
  try {
    kid = decodeProtectedHeader(assertion).kid;
    iss = decodeJwt(assertion).iss;
  } catch {
    return INVALID_SIGNATURE();
  }
  const account = typeof iss === 'string' ? state.serviceAccounts.get(iss) : undefined;
  if (!account) return refuse(400, 'invalid_grant', 'Invalid grant: account not found');
  // A key deleted at Google (rotation) stops verifying at once.
  const candidates = kid
    ? [account.keys.get(kid)].filter((k) => k !== undefined)
    : [...account.keys.values()];
  let claims: Record<string, unknown> | undefined;
  for (const key of candidates) {
    try {
      const verified = await jwtVerify(assertion, key, {
        algorithms: ['RS256'],
        currentDate: new Date(nowMs),
        clockTolerance: CLOCK_SKEW_S,
      });
      claims = verified.payload as Record<string, unknown>;
      break;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired || err instanceof joseErrors.JWTClaimValidationFailed)
        return NOT_SHORT_LIVED();
    }
  }
  if (!claims) return INVALID_SIGNATURE();

  const { iat, exp, aud, scope, sub } = claims;
  const nowS = Math.floor(nowMs / 1000);
  if (typeof iat !== 'number' || typeof exp !== 'number') return NOT_SHORT_LIVED();
  if (exp - iat > MAX_ASSERTION_LIFETIME_S || iat > nowS + CLOCK_SKEW_S) return NOT_SHORT_LIVED();
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.some((a) => a === GOOGLE_TOKEN_AUDIENCE || a === `${state.url}/token`)) {
    return refuse(400, 'invalid_grant', 'Invalid JWT: Failed audience check.');
  }
  const scopes = typeof scope === 'string' ? scope.split(/\s+/).filter(Boolean) : [];
  if (scopes.length === 0) return refuse(400, 'invalid_scope', 'Empty or missing scope not allowed.');

  if (typeof sub !== 'string' || sub === account.clientEmail) {
    // The service account acting as itself: it is no Workspace user, so the Directory API will refuse it.
    const access = state.oauth.issueAccessToken(
      `sa|${account.clientEmail}`,
      account.clientId,
      { customerId: '', userId: account.clientEmail },
      scopes,
    );
    return { ok: true, access };
  }
  const found = state.findUserByEmailOrId(sub);
  if (!found || found.user.suspended) return INVALID_SUBJECT();
  const delegated = state.serviceAccounts.delegatedScopes(found.ws.customerId, account.clientId);
  if (!delegated || !scopes.every((s) => delegated.has(s))) return UNAUTHORIZED_CLIENT();
  const principal = { customerId: found.ws.customerId, userId: found.user.id };
  const access = state.oauth.issueAccessToken(
    `sa|${account.clientEmail}|${principal.customerId}|${principal.userId}`,
    account.clientId,
    principal,
    scopes,
  );
  return { ok: true, access };
}
