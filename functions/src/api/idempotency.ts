import { idempotencyKeySchema } from '../devices/device-actions.js';
import {
  claimIdempotencyKey,
  releaseIdempotencyKey,
  storeIdempotentAnswer,
} from '../store/idempotency-keys.js';
import { ApiError, parseOrThrow } from './api-error.js';
import { sha256Hex } from './host-hmac.js';
import { errorResult, json, type ApiResult } from './http.js';
import { actorOf, type RouteContext } from './route-context.js';

/**
 * Idempotency-Key for host-signed writes. A signature is accepted once, so a host retrying a request it never
 * got an answer to signs it anew, with the same Idempotency-Key: the first answer (status and body) is stored
 * per tenant, caller and key, and a retry of the same request (same method, path, query and body) gets that
 * answer back without running again. The same key on a different request is refused with 422; a retry while the
 * first is still running gets 409. Transient answers (429, 5xx) are not stored, so a retry runs again.
 */
export function wantsIdempotency(ctx: RouteContext): boolean {
  return (
    ctx.caller.kind === 'host' && ctx.req.method !== 'GET' && ctx.req.header('idempotency-key') !== undefined
  );
}

const settled = (r: ApiResult) => r.kind === 'json' && r.status < 500 && r.status !== 429;

export async function withIdempotency(ctx: RouteContext, run: () => Promise<ApiResult>): Promise<ApiResult> {
  const key = parseOrThrow(idempotencyKeySchema, ctx.req.header('idempotency-key'), 'Idempotency-Key header');
  const tenantId = ctx.tenant?.tenantId ?? null;
  const caller = actorOf(ctx.caller);
  const keyHash = sha256Hex(JSON.stringify([tenantId ?? '', caller, key]));
  const fingerprint = sha256Hex([ctx.req.method, ctx.req.target, sha256Hex(ctx.req.rawBody)].join('\n'));
  const db = ctx.app.db;
  const claim = await claimIdempotencyKey(db, keyHash, {
    tenantId,
    caller,
    fingerprint,
    nowMs: ctx.app.clock.now(),
  });
  if (claim.kind === 'different_request') {
    throw new ApiError(
      'idempotency_key_reused',
      'this Idempotency-Key was already used for a different request (method, path, query or body)',
    );
  }
  if (claim.kind === 'in_progress')
    throw new ApiError('conflict', 'a request with this Idempotency-Key is still in progress; retry later');
  if (claim.kind === 'answered') {
    return json(claim.answer.status, JSON.parse(claim.answer.body) as unknown, {
      'idempotent-replayed': 'true',
    });
  }
  let result: ApiResult;
  try {
    result = await run();
  } catch (err) {
    if (!(err instanceof ApiError)) {
      await releaseIdempotencyKey(db, keyHash).catch(() => undefined);
      throw err;
    }
    result = errorResult(err);
  }
  if (result.kind === 'json' && settled(result))
    await storeIdempotentAnswer(db, keyHash, { status: result.status, body: JSON.stringify(result.body) });
  else await releaseIdempotencyKey(db, keyHash);
  return result;
}
