import { readTenantAccess } from '../store/members.js';
import { spendSignature as spendSignatureOnce } from '../store/replay-guard.js';
import { readTenantWithData } from '../store/tenants.js';
import { ApiError } from './api-error.js';
import { hasHostSignature, verifyHostSignature } from './host-hmac.js';
import type { ApiRequest } from './http.js';
import { IdTokenError, IdTokenVerifierUnavailable } from './id-token-verifier.js';
import { roleFallsShort } from './membership.js';
import { assertNotCrossSite, sessionIdFrom } from './session-auth.js';
import { useSession } from '../store/sessions.js';
import type { Access } from './router.js';
import type { ApiServices, Caller, TenantScope } from './route-context.js';
import type { App } from '../app.js';
import type { Db } from '../store/firestore.js';
import type { ApiConfig } from './api-config.js';

const signInRequired = (message: string) =>
  new ApiError('unauthenticated', message, [], { 'www-authenticate': 'Bearer realm="workspace-sync"' });

/** One message for "no such tenant" and "not your tenant": a non-member must not learn that a tenant exists. */
const tenantNotFound = () => new ApiError('not_found', 'tenant not found');

export interface Authenticated {
  caller: Caller;
  /**
   * Records a host signature as used (a no-op for other callers): api-handler.ts calls it before the route's
   * handler runs, and only a route's effect-free `admit` may come before it.
   */
  spendSignature(): Promise<void>;
}

const nothingToSpend = async () => {};

export async function authenticate(
  req: ApiRequest,
  access: Access,
  app: App,
  api: ApiConfig,
  services: ApiServices,
): Promise<Authenticated> {
  if (access.kind === 'public') return { caller: { kind: 'anonymous' }, spendSignature: nothingToSpend };
  const hostAllowed = access.kind === 'host' || (access.kind === 'tenant' && access.allowHost === true);
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '')?.[1];
  if (hostAllowed && !bearer && hasHostSignature(req)) return acceptHostSignature(req, app, api);
  if (access.kind === 'host') {
    throw new ApiError(
      'unauthenticated',
      'this endpoint is for the host product: sign the request (X-WS-Signature)',
    );
  }
  if (!bearer && !req.header('authorization')) {
    const sessionId = sessionIdFrom(req.header('cookie'));
    if (sessionId) return acceptSession(req, sessionId, app, api);
  }
  if (!bearer) {
    throw signInRequired(
      req.header('authorization') ? 'Authorization must be "Bearer <Google ID token>"' : 'sign in required',
    );
  }
  try {
    return {
      caller: { kind: 'admin', identity: await services.idTokens.verify(bearer) },
      spendSignature: nothingToSpend,
    };
  } catch (err) {
    if (err instanceof IdTokenError) throw signInRequired(`invalid ID token: ${err.message}`);
    if (err instanceof IdTokenVerifierUnavailable)
      throw new ApiError('unavailable', 'cannot verify sign-in right now; try again');
    throw err;
  }
}

/**
 * A console session (api/session-auth.ts, store/sessions.ts): the identity Google's ID token showed at sign-in,
 * for as long as the session lives. Roles are not part of it: tenant routes read the caller's membership on every
 * request (resolveTenantScope), so a removal or a role change applies to the next request.
 */
async function acceptSession(
  req: ApiRequest,
  sessionId: string,
  app: App,
  api: ApiConfig,
): Promise<Authenticated> {
  const session = await useSession(app.db, sessionId, app.clock.now(), api.session);
  if (!session) throw signInRequired('your session has ended; sign in again');
  assertNotCrossSite(req, api.consoleOrigin);
  return {
    caller: {
      kind: 'admin',
      identity: {
        sub: session.sub,
        email: session.email,
        name: session.name,
        hd: null,
        nonce: null,
        expiresAt: session.expiresAt,
      },
      sessionId,
    },
    spendSignature: nothingToSpend,
  };
}

/**
 * A valid signature is accepted once: the replay guard records it before the route's handler runs, so a
 * captured request sent again within its window (re-adding a removed member, re-triggering a sync) is refused.
 * Key, window and HMAC are checked here; the record is written by `spendSignature`, which api-handler.ts calls
 * before the handler (after a route's effect-free admission, so a burst the route refuses anyway, such as a full
 * refresh window's 429s, costs no write per call). An honest retry signs anew and sends the same Idempotency-Key
 * (idempotency.ts).
 */
function acceptHostSignature(req: ApiRequest, app: App, api: ApiConfig): Authenticated {
  const nowMs = app.clock.now();
  const verified = verifyHostSignature(req, api.hostProductKeys, nowMs);
  return {
    caller: verified.caller,
    spendSignature: async () => {
      const spent = await spendSignatureOnce(app.db, verified.signatureHash, {
        keyId: verified.caller.keyId,
        method: req.method,
        path: req.path,
        nowMs,
        expiresAtMs: verified.expiresAtMs,
      });
      if (spent === 'replay') {
        throw new ApiError(
          'unauthenticated',
          'host product signature rejected: this signature was already used; sign every request anew ' +
            '(to retry safely, send the same Idempotency-Key with a new signature)',
        );
      }
    },
  };
}

/** Per Firestore client (tests run several apps in one process): tenant reads in flight, by tenant id. */
const tenantReads = new WeakMap<Db, Map<string, ReturnType<typeof readTenantWithData>>>();

/**
 * Concurrent host calls for one tenant share one read of its document: a burst of webhook calls (300 refresh
 * calls at once) otherwise queues 300 identical reads ahead of the few calls that do work. A shared read started
 * at most one read's latency before this call arrived, as fresh as a read this call started itself could be
 * relied on to be (the tenant may change right after either).
 */
function readTenantShared(db: Db, tenantId: string): ReturnType<typeof readTenantWithData> {
  let reads = tenantReads.get(db);
  if (!reads) {
    reads = new Map();
    tenantReads.set(db, reads);
  }
  const inFlight = reads.get(tenantId);
  if (inFlight) return inFlight;
  const read = readTenantWithData(db, tenantId).finally(() => reads.delete(tenantId));
  reads.set(tenantId, read);
  return read;
}

export async function resolveTenantScope(
  app: App,
  access: Access,
  caller: Caller,
  tenantId: string,
): Promise<TenantScope> {
  if (access.kind !== 'tenant') throw new Error('not a tenant route');
  if (caller.kind === 'host') {
    const found = await readTenantShared(app.db, tenantId);
    if (!found) throw tenantNotFound();
    return { tenantId, role: null, ...found };
  }
  if (caller.kind !== 'admin') throw tenantNotFound();
  const found = await readTenantAccess(app.db, tenantId, caller.identity.email);
  if (!found) throw tenantNotFound();
  const shortfall = roleFallsShort(found.role, access.need);
  if (shortfall) {
    throw new ApiError('permission_denied', `your role in this tenant is ${found.role}; ${shortfall}`);
  }
  return found;
}
