import { z } from 'zod';
import type { App } from '../app.js';
import { tickMessageSchema } from '../engine/messages.js';
import { emitTenantEventSafely } from '../notifications/emit.js';
import { directoryClient } from '../sources/google/directory-client.js';
import { classifyDirectoryError } from '../sources/google/directory-errors.js';
import { NotConnectedError } from '../sources/google/workspace-auth.js';
import {
  listTenants,
  parseCredentialHealth,
  readGoogleAuth,
  readTenantWithData,
  recordCredentialHealth,
  type AdminStatus,
  type CredentialHealth,
  type GoogleAuthMode,
} from '../store/tenants.js';

/**
 * Credential health: a cheap, periodic check of each connected tenant's Google credential, so that a credential
 * that stopped working (the authorizing admin suspended or no longer an admin, a grant revoked or expired, a
 * service account key deleted, a delegation entry removed) is known before the next sync fails on it.
 *
 * One check is a fresh token (a refresh, or a new JWT assertion for a service account) and one minimal
 * Directory call: users.get of the authorizing admin with four fields, which is also what tells whether that
 * admin is suspended or still an admin. A grant Google refuses marks the tenant needs_reauth (stopping its
 * syncs, as a sync's invalid_grant would); every change of state goes through onCredentialHealthChanged.
 */

/** How often a tenant is checked; the scheduler ticks five times a day, so about every other tick. */
export const HEALTH_CHECK_INTERVAL_MS = 4 * 3600_000;
/** Bounded work per tick: the rest are checked at the next tick (oldest check first is not guaranteed). */
export const MAX_HEALTH_CHECKS_PER_TICK = 500;
const CONCURRENCY = 4;

export interface CredentialHealthChange {
  tenantId: string;
  previous: CredentialHealth | null;
  current: CredentialHealth;
  /** Google refused the grant itself: the tenant was marked needs_reauth. */
  needsReauth: boolean;
}

/**
 * Called once for every health transition (a first check, healthy -> failing, failing -> healthy, or the
 * authorizing admin's status changing), after the new health is stored: logs it, and tells the tenant
 * (notifications/) when it turned failing: `tenant.needs_reauthorization` when the grant is gone,
 * `tenant.connection_failing` otherwise (the admin lost admin rights, a scope or API access is refused).
 * It must not throw into the check: failures are logged by the caller.
 */
export async function onCredentialHealthChanged(app: App, change: CredentialHealthChange): Promise<void> {
  const { tenantId, previous, current } = change;
  const fields = {
    tenantId,
    from: previous?.state ?? null,
    to: current.state,
    admin: current.admin.email,
    adminStatus: current.admin.status,
    reason: current.reason,
  };
  if (current.state !== 'failing') {
    app.log.info('Google credential health changed', fields);
    return;
  }
  app.log.warn('Google credential stopped working', fields);
  const reason = current.reason ?? 'Google refused the stored credential';
  // One event per check that found it failing: the same transition seen again by a retried tick is one event.
  const dedupeKey = `health:${current.checkedAt}`;
  await emitTenantEventSafely(
    app.notifyDeps(),
    tenantId,
    change.needsReauth
      ? { type: 'tenant.needs_reauthorization', data: { source: 'google', reason } }
      : {
          type: 'tenant.connection_failing',
          data: {
            source: 'google',
            reason,
            admin: { email: current.admin.email, status: current.admin.status },
          },
        },
    { dedupeKey },
  );
}

const adminUserSchema = z
  .object({
    primaryEmail: z.string(),
    suspended: z.boolean().optional(),
    isAdmin: z.boolean().optional(),
    isDelegatedAdmin: z.boolean().optional(),
  })
  .loose();

type Verdict = {
  state: CredentialHealth['state'];
  reason: string | null;
  adminStatus: AdminStatus;
  /** Set when the credential itself is dead: the tenant's syncs stop until it is re-authorized. */
  needsReauth: string | null;
};

const statusOf = (err: unknown) => (err as { response?: { status?: unknown } } | null)?.response?.status;

async function probe(app: App, tenantId: string, adminEmail: string | null): Promise<Verdict> {
  // A fresh client: the check is of the credential, not of an access token cached from an hour ago.
  app.auth.forget(tenantId);
  const auth = await app.auth.clientFor(tenantId);
  await auth.getAccessToken();
  const admin = await directoryClient(app.config, auth);
  if (!adminEmail) {
    await admin.users.list({ customer: 'my_customer', maxResults: 1, fields: 'users(id)' }, { retry: false });
    return { state: 'healthy', reason: null, adminStatus: 'unknown', needsReauth: null };
  }
  try {
    const res = await admin.users.get(
      { userKey: adminEmail, fields: 'primaryEmail,suspended,isAdmin,isDelegatedAdmin' },
      { retry: false },
    );
    const user = adminUserSchema.parse(res.data);
    if (user.suspended) {
      return {
        state: 'failing',
        reason: `The authorizing admin ${adminEmail} is suspended in Google Workspace.`,
        adminStatus: 'suspended',
        needsReauth: null,
      };
    }
    if (!user.isAdmin && !user.isDelegatedAdmin) return notAdmin(adminEmail);
    return { state: 'healthy', reason: null, adminStatus: 'active', needsReauth: null };
  } catch (err) {
    const status = statusOf(err);
    if (status === 404) {
      return {
        state: 'failing',
        reason: `The authorizing admin ${adminEmail} no longer exists in Google Workspace.`,
        adminStatus: 'deleted',
        needsReauth: null,
      };
    }
    if (status !== 403) throw err;
    // A delegated admin may lack the users privilege yet be an admin: customers.get tells them apart.
    try {
      await admin.customers.get({ customerKey: 'my_customer', fields: 'id' }, { retry: false });
      return { state: 'healthy', reason: null, adminStatus: 'active', needsReauth: null };
    } catch (inner) {
      if (statusOf(inner) === 403) return notAdmin(adminEmail);
      throw inner;
    }
  }
}

const notAdmin = (adminEmail: string): Verdict => ({
  state: 'failing',
  reason:
    `The authorizing admin ${adminEmail} is no longer a Google Workspace administrator: Google refuses its ` +
    'directory reads. Authorize again with an administrator.',
  adminStatus: 'not_admin',
  needsReauth: null,
});

function refusedGrant(mode: GoogleAuthMode, adminEmail: string | null, description: string): Verdict {
  const who = adminEmail ?? 'the authorizing admin';
  const reason =
    mode === 'service_account'
      ? `Google no longer issues tokens for the service account as ${who} (invalid_grant${description ? `: ${description}` : ''}): ` +
        `${who} may be suspended, deleted or renamed, or the key was deleted. Upload a new key or name another admin.`
      : `Google refused the authorization (invalid_grant): ${who} may have been suspended or deleted, lost ` +
        'admin rights, changed password, or the access was revoked. Authorize the connection again.';
  return { state: 'failing', reason, adminStatus: 'unknown', needsReauth: reason };
}

function delegationRefused(): Verdict {
  const reason =
    'Google refuses the service account the read-only scopes (unauthorized_client): the domain-wide delegation ' +
    'entry was removed or narrowed in the Google Admin console. Restore it, then test the connection.';
  return { state: 'failing', reason, adminStatus: 'unknown', needsReauth: reason };
}

const descriptionOf = (err: unknown) => {
  const d = (err as { response?: { data?: { error_description?: unknown } } } | null)?.response?.data
    ?.error_description;
  return typeof d === 'string' ? d.slice(0, 200) : '';
};
const oauthErrorOf = (err: unknown) => {
  const e = (err as { response?: { data?: { error?: unknown } } } | null)?.response?.data?.error;
  return typeof e === 'string' ? e : null;
};

/**
 * One check of one tenant, stored on the tenant (`credentialHealth`); null when Google could not be asked
 * (unavailable, throttled): nothing is recorded and the next check tries again.
 */
export async function checkCredentialHealth(app: App, tenantId: string): Promise<CredentialHealth | null> {
  const found = await readTenantWithData(app.db, tenantId);
  if (!found) return null;
  const settings = await readGoogleAuth(app.db, tenantId);
  const connection = (found.raw.connection ?? {}) as { adminEmail?: unknown };
  const adminEmail =
    settings.mode === 'service_account'
      ? (settings.serviceAccount?.subject ?? null)
      : typeof connection.adminEmail === 'string'
        ? connection.adminEmail
        : null;
  const checkedAt = new Date(app.clock.now()).toISOString();

  let verdict: Verdict;
  try {
    verdict = await probe(app, tenantId, adminEmail);
  } catch (err) {
    if (err instanceof NotConnectedError) {
      verdict = {
        state: 'not_connected',
        reason: 'Google Workspace is not connected',
        adminStatus: 'unknown',
        needsReauth: null,
      };
    } else if (oauthErrorOf(err) === 'unauthorized_client' && settings.mode === 'service_account') {
      verdict = delegationRefused();
    } else {
      const c = classifyDirectoryError(err);
      if (c.kind === 'invalid_grant') verdict = refusedGrant(settings.mode, adminEmail, descriptionOf(err));
      else {
        app.log.warn('credential health check could not reach Google', { tenantId, kind: c.kind });
        return null;
      }
    }
  }
  if (verdict.needsReauth) app.auth.forget(tenantId);
  const { previous, current } = await recordCredentialHealth(
    app.db,
    tenantId,
    {
      state: verdict.state,
      checkedAt,
      mode: settings.mode,
      reason: verdict.reason,
      admin: { email: adminEmail, status: verdict.adminStatus },
    },
    verdict.needsReauth,
  );
  if (previous?.state !== current.state || previous.admin.status !== current.admin.status) {
    try {
      await onCredentialHealthChanged(app, {
        tenantId,
        previous,
        current,
        needsReauth: verdict.needsReauth !== null,
      });
    } catch (err) {
      app.log.warn('credential health hook failed', { tenantId, error: String(err) });
    }
  }
  return current;
}

/** Whether a tenant is due: connected, and not checked within the interval. */
function isDue(tenant: { status: string; credentialHealth?: unknown }, now: number): boolean {
  if (tenant.status !== 'active') return false;
  const last = parseCredentialHealth(tenant.credentialHealth);
  return !last || Date.parse(last.checkedAt) <= now - HEALTH_CHECK_INTERVAL_MS;
}

/** Checks the tenants that are due, a few at a time, at most MAX_HEALTH_CHECKS_PER_TICK per call. */
export async function runCredentialHealthChecks(app: App): Promise<{ checked: number }> {
  const now = app.clock.now();
  const due: string[] = [];
  for await (const { id, tenant } of listTenants(app.db)) {
    if (isDue(tenant as { status: string; credentialHealth?: unknown }, now)) due.push(id);
    if (due.length >= MAX_HEALTH_CHECKS_PER_TICK) break;
  }
  let checked = 0;
  const worker = async () => {
    for (let t = due.shift(); t !== undefined; t = due.shift()) {
      try {
        await checkCredentialHealth(app, t);
        checked++;
      } catch (err) {
        app.log.warn('credential health check failed', { tenantId: t, error: String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { checked };
}

/**
 * The scheduler tick's step: a scheduled tick (one naming no tenant) checks the tenants that are due. A tenant
 * tick (sync now, an initial sync) and the fan-out's shards check nothing. Never fails the tick.
 */
export async function checkCredentialHealthOnTick(app: App, payload: unknown): Promise<void> {
  const tick = tickMessageSchema.safeParse(payload);
  if (!tick.success || tick.data.tenantId !== undefined) return;
  try {
    const { checked } = await runCredentialHealthChecks(app);
    if (checked > 0) app.log.info('credential health checked', { tenants: checked });
  } catch (err) {
    app.log.warn('credential health checks failed', { error: String(err) });
  }
}
