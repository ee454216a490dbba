import { randomBytes } from 'node:crypto';
import type { ConsentDecisionInput, OAuthClientInput } from './control-schemas.js';

export const DEFAULT_OAUTH_CLIENT = {
  clientId: 'workspace-sync-local.apps.googleusercontent.com',
  clientSecret: 'local-client-secret',
} as const;

export const ACCESS_TOKEN_TTL_SECONDS = 3599;
const AUTH_CODE_TTL_MS = 10 * 60_000;
const PENDING_REQUEST_TTL_MS = 30 * 60_000;

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** `loopback`: any http://127.0.0.1:* or http://localhost:* URL, like a Desktop-type client. */
  redirectUris: readonly string[] | 'loopback';
}

/** Who signed in: the principal behind a code or token. */
export interface Principal {
  customerId: string;
  userId: string;
}

/** An authorization request parked on the consent page. */
export interface PendingAuthRequest extends Principal {
  id: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain' | undefined;
  offline: boolean;
  forceConsent: boolean;
  includeGrantedScopes: boolean;
  nonce: string | undefined;
  createdAt: number;
}

export interface AuthCode extends Principal {
  code: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain' | undefined;
  issueRefreshToken: boolean;
  nonce: string | undefined;
  expiresAt: number;
  used: boolean;
}

/** The user's standing permission for one client ("third-party app with account access"). */
interface Grant extends Principal {
  key: string;
  clientId: string;
  scopes: Set<string>;
}

export interface RefreshTokenRecord extends Principal {
  token: string;
  grantKey: string;
  clientId: string;
  scopes: string[];
}

export interface AccessTokenRecord extends Principal {
  token: string;
  grantKey: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

const grantKeyOf = (clientId: string, p: Principal) => `${clientId}|${p.customerId}|${p.userId}`;

function opaque(prefix: string, bytes: number): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export function isLoopbackRedirect(uri: string): boolean {
  try {
    const u = new URL(uri);
    return (
      u.protocol === 'http:' &&
      (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]')
    );
  } catch {
    return false;
  }
}

export class OAuthState {
  private clients = new Map<string, OAuthClient>();
  private pending = new Map<string, PendingAuthRequest>();
  private codes = new Map<string, AuthCode>();
  private grants = new Map<string, Grant>();
  private refreshTokens = new Map<string, RefreshTokenRecord>();
  private accessTokens = new Map<string, AccessTokenRecord>();
  private scriptedDecisions: ConsentDecisionInput[] = [];

  constructor() {
    this.reset();
  }

  reset(): void {
    this.clients = new Map([
      [DEFAULT_OAUTH_CLIENT.clientId, { ...DEFAULT_OAUTH_CLIENT, redirectUris: 'loopback' }],
    ]);
    this.pending.clear();
    this.codes.clear();
    this.grants.clear();
    this.refreshTokens.clear();
    this.accessTokens.clear();
    this.scriptedDecisions = [];
  }

  registerClient(input: OAuthClientInput): void {
    this.clients.set(input.clientId, { ...input });
  }

  client(clientId: string | null | undefined): OAuthClient | undefined {
    return clientId ? this.clients.get(clientId) : undefined;
  }

  redirectAllowed(client: OAuthClient, uri: string): boolean {
    return client.redirectUris === 'loopback' ? isLoopbackRedirect(uri) : client.redirectUris.includes(uri);
  }

  // ------------------------------------------------------------ consent

  scriptNextDecision(decision: ConsentDecisionInput): void {
    this.scriptedDecisions.push(decision);
  }

  takeScriptedDecision(): ConsentDecisionInput | undefined {
    return this.scriptedDecisions.shift();
  }

  park(request: Omit<PendingAuthRequest, 'id' | 'createdAt'>): PendingAuthRequest {
    const now = Date.now();
    for (const [id, p] of this.pending)
      if (now - p.createdAt > PENDING_REQUEST_TTL_MS) this.pending.delete(id);
    const parked = { ...request, id: randomBytes(18).toString('base64url'), createdAt: now };
    this.pending.set(parked.id, parked);
    return parked;
  }

  unpark(id: string): PendingAuthRequest | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  grantedScopes(clientId: string, p: Principal): string[] {
    return [...(this.grants.get(grantKeyOf(clientId, p))?.scopes ?? [])];
  }

  hasRefreshToken(clientId: string, p: Principal): boolean {
    const key = grantKeyOf(clientId, p);
    for (const r of this.refreshTokens.values()) if (r.grantKey === key) return true;
    return false;
  }

  // ------------------------------------------------------------ codes

  issueCode(input: Omit<AuthCode, 'code' | 'expiresAt' | 'used'>): AuthCode {
    const now = Date.now();
    for (const [c, rec] of this.codes) if (rec.expiresAt < now - AUTH_CODE_TTL_MS) this.codes.delete(c);
    const code: AuthCode = {
      ...input,
      code: opaque('4/0A', 54),
      expiresAt: now + AUTH_CODE_TTL_MS,
      used: false,
    };
    this.codes.set(code.code, code);
    return code;
  }

  code(code: string): AuthCode | undefined {
    return this.codes.get(code);
  }

  // ------------------------------------------------------------ tokens

  /** Records (or widens) the grant and mints tokens for it. */
  issueTokens(
    clientId: string,
    principal: Principal,
    scopes: readonly string[],
    withRefreshToken: boolean,
  ): { access: AccessTokenRecord; refresh: RefreshTokenRecord | undefined } {
    const key = grantKeyOf(clientId, principal);
    const grant = this.grants.get(key) ?? { ...principal, key, clientId, scopes: new Set<string>() };
    for (const s of scopes) grant.scopes.add(s);
    this.grants.set(key, grant);
    let refresh: RefreshTokenRecord | undefined;
    if (withRefreshToken) {
      refresh = { ...principal, token: opaque('1//0g', 72), grantKey: key, clientId, scopes: [...scopes] };
      this.refreshTokens.set(refresh.token, refresh);
    }
    return { access: this.issueAccessToken(key, clientId, principal, scopes), refresh };
  }

  issueAccessToken(
    grantKey: string,
    clientId: string,
    p: Principal,
    scopes: readonly string[],
  ): AccessTokenRecord {
    const now = Date.now();
    if (this.accessTokens.size > 50_000) {
      for (const [t, rec] of this.accessTokens) if (rec.expiresAt < now) this.accessTokens.delete(t);
    }
    const access: AccessTokenRecord = {
      customerId: p.customerId,
      userId: p.userId,
      token: opaque('ya29.a0', 120),
      grantKey,
      clientId,
      scopes: [...scopes],
      expiresAt: now + ACCESS_TOKEN_TTL_SECONDS * 1000,
    };
    this.accessTokens.set(access.token, access);
    return access;
  }

  refreshToken(token: string): RefreshTokenRecord | undefined {
    return this.refreshTokens.get(token);
  }

  /** A live (unexpired) access token. */
  accessToken(token: string, now = Date.now()): AccessTokenRecord | undefined {
    const rec = this.accessTokens.get(token);
    return rec && rec.expiresAt > now ? rec : undefined;
  }

  expireAccessToken(token: string): boolean {
    const rec = this.accessTokens.get(token);
    if (!rec) return false;
    rec.expiresAt = Date.now() - 1;
    return true;
  }

  /** Revoking any token removes the whole grant: its refresh tokens and every access token minted from it. */
  revokeByToken(token: string): boolean {
    const rec = this.refreshTokens.get(token) ?? this.accessTokens.get(token);
    if (!rec) return false;
    this.revokeGrant(rec.grantKey);
    return true;
  }

  revokeCustomer(customerId: string): number {
    const keys = [...this.grants.values()].filter((g) => g.customerId === customerId).map((g) => g.key);
    for (const r of this.refreshTokens.values()) if (r.customerId === customerId) keys.push(r.grantKey);
    const unique = new Set(keys);
    for (const k of unique) this.revokeGrant(k);
    return unique.size;
  }

  private revokeGrant(key: string): void {
    this.grants.delete(key);
    for (const [t, r] of this.refreshTokens) if (r.grantKey === key) this.refreshTokens.delete(t);
    for (const [t, a] of this.accessTokens) if (a.grantKey === key) this.accessTokens.delete(t);
  }
}
