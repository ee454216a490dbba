import type { App } from '../app.js';
import type { Logger } from '../platform/log.js';
import type { ApiConfig } from './api-config.js';
import type { HostCaller } from './host-hmac.js';
import type { ApiRequest } from './http.js';
import type { IdTokenVerifier, VerifiedIdToken } from './id-token-verifier.js';
import type { Role } from '../store/members.js';
import type { TenantDoc } from '../store/tenants.js';
import type { DocumentData } from '../store/firestore.js';

export interface AdminCaller {
  kind: 'admin';
  identity: VerifiedIdToken;
  /** Set when the caller came with the console's session cookie rather than a bearer token. */
  sessionId?: string;
}

export type Caller = AdminCaller | HostCaller | { kind: 'anonymous' };

/** The tenant a tenant route works on, as the access check found it. `role` is null for the host product. */
export interface TenantScope {
  tenantId: string;
  role: Role | null;
  tenant: TenantDoc;
  raw: DocumentData;
}

export interface ApiServices {
  idTokens: IdTokenVerifier;
}

export interface RouteContext {
  app: App;
  api: ApiConfig;
  services: ApiServices;
  req: ApiRequest;
  params: Record<string, string>;
  caller: Caller;
  /** Set for `tenant` routes. */
  tenant: TenantScope | null;
  log: Logger;
}

/** Who did it, for `updatedBy` / `connectedBy` / `revokedBy`. */
export function actorOf(caller: Caller): string {
  if (caller.kind === 'admin') return caller.identity.email;
  if (caller.kind === 'host') return `host-product:${caller.keyId}`;
  return 'anonymous';
}

export function requireTenant(ctx: RouteContext): TenantScope {
  if (!ctx.tenant) throw new Error('tenant route without tenant scope');
  return ctx.tenant;
}

export function requireAdmin(ctx: RouteContext): AdminCaller {
  if (ctx.caller.kind !== 'admin') throw new Error('admin route without admin caller');
  return ctx.caller;
}
