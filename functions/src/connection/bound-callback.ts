import type { Clock } from '../platform/clock.js';
import { connectBinding, secretMatches } from './browser-binding.js';
import type { Db } from '../store/firestore.js';
import { consumeOAuthState, type ConsumedState, type StatePurpose } from '../store/oauth-states.js';

export type CallbackRejectionCode =
  | 'invalid_state'
  | 'state_replayed'
  | 'state_expired'
  | 'browser_mismatch'
  | 'tenant_mismatch'
  | 'not_authorized';

export class CallbackRejection extends Error {
  override readonly name = 'CallbackRejection';
  constructor(
    readonly code: CallbackRejectionCode,
    readonly tenantId: string | null,
  ) {
    super(code);
  }
}

export interface BoundCallbackDeps {
  db: Db;
  clock: Clock;
  /** Whether the admin who started the flow may still manage the tenant now. */
  canManageTenant(tenantId: string, email: string): Promise<boolean>;
}

/**
 * The checks every connect callback (Google, Entra) makes before trusting what came back: the state is ours,
 * of this flow, unused and fresh (and is spent now); the browser presenting it is the one that started the
 * flow, for the same tenant; and the admin who started it may still manage that tenant.
 */
export async function acceptBoundCallback(
  deps: BoundCallbackDeps,
  stateId: string | undefined,
  purpose: StatePurpose | readonly StatePurpose[],
  cookieHeader: string | undefined,
): Promise<{ state: ConsumedState; tenantId: string; admin: string }> {
  if (!stateId) throw new CallbackRejection('invalid_state', null);
  const consumed = await consumeOAuthState(deps.db, deps.clock, stateId, purpose);
  if (!consumed.ok) {
    const code =
      consumed.reason === 'unknown'
        ? 'invalid_state'
        : consumed.reason === 'replayed'
          ? 'state_replayed'
          : 'state_expired';
    throw new CallbackRejection(code, consumed.tenantId);
  }
  const state = consumed.state;
  const { tenantId, adminEmail: admin } = state;
  if (!tenantId || !admin) throw new CallbackRejection('invalid_state', null);

  const binding = connectBinding(cookieHeader);
  if (!binding) throw new CallbackRejection('browser_mismatch', tenantId);
  if (binding.tenantId !== tenantId) throw new CallbackRejection('tenant_mismatch', tenantId);
  if (!secretMatches(binding.secret, state.bindingHash))
    throw new CallbackRejection('browser_mismatch', tenantId);
  if (!(await deps.canManageTenant(tenantId, admin))) throw new CallbackRejection('not_authorized', tenantId);
  return { state, tenantId, admin };
}
