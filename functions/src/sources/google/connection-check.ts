import { directoryClient } from './directory-client.js';
import { classifyDirectoryError } from './directory-errors.js';
import { NotConnectedError } from './workspace-auth.js';
import type { App } from '../../app.js';
import { markNeedsReauthorization, setGoogleAccess, type EntityAccess } from '../../store/tenants.js';
import { fetchCustomer } from './google-oauth.js';
import { probeEntityAccess } from '../../connection/entity-access.js';

export type ConnectionCheck =
  | {
      ok: true;
      domain: string;
      customerId: string;
      checkedAt: string;
      /** What the authorizing admin can read, per entity (kept on the tenant as `googleAccess`). */
      access: Record<string, EntityAccess>;
    }
  | { ok: false; reason: string; needsReauthorization: boolean; checkedAt: string };

async function probe(app: App, tenantId: string) {
  const auth = await app.auth.clientFor(tenantId);
  const customer = await fetchCustomer(app.config, auth);
  const access = await probeEntityAccess(app.config, auth, new Date(app.clock.now()).toISOString());
  // An admin who may read nothing is no working connection (users are what every product maps first).
  if (!access.users?.permitted) {
    const admin = await directoryClient(app.config, auth);
    await admin.users.list({ customer: 'my_customer', maxResults: 1, fields: 'users(id)' }, { retry: false });
  }
  return { customer, access };
}

const statusOf = (err: unknown) => (err as { response?: { status?: unknown } } | null)?.response?.status;

/**
 * A 401 means the cached access token died (revoked along with its grant, or expired early). Only a refresh
 * tells whether the grant itself is alive, so the cached client is dropped and the probe tried once more.
 */
async function probeRefreshingOnce(app: App, tenantId: string) {
  try {
    return await probe(app, tenantId);
  } catch (err) {
    if (statusOf(err) !== 401) throw err;
    app.auth.forget(tenantId);
    return probe(app, tenantId);
  }
}

export const REAUTH_REASON =
  'Google revoked or expired the authorization (invalid_grant); re-authorize the connection';

/**
 * "Test connection": the stored authorization, used the way a sync uses it (customers.get, then one user).
 * An invalid_grant answer is final, so it stops the tenant's syncs exactly as a failing sync would.
 */
export async function checkConnection(app: App, tenantId: string): Promise<ConnectionCheck> {
  const checkedAt = new Date(app.clock.now()).toISOString();
  try {
    const { customer, access } = await probeRefreshingOnce(app, tenantId);
    await setGoogleAccess(app.db, tenantId, access);
    return { ok: true, domain: customer.domain, customerId: customer.customerId, checkedAt, access };
  } catch (err) {
    if (err instanceof NotConnectedError) {
      return {
        ok: false,
        reason: 'Google Workspace is not connected',
        needsReauthorization: false,
        checkedAt,
      };
    }
    const c = classifyDirectoryError(err);
    if (c.kind === 'invalid_grant') {
      app.auth.forget(tenantId);
      await markNeedsReauthorization(app.db, tenantId, REAUTH_REASON, new Date(app.clock.now()));
      app.log.warn('connection test found the authorization revoked', { tenantId });
      return { ok: false, reason: REAUTH_REASON, needsReauthorization: true, checkedAt };
    }
    const reason =
      c.kind === 'forbidden'
        ? `Google refused the directory read (${c.reason}): the authorizing account may no longer be a Workspace administrator`
        : c.kind === 'retryable'
          ? `Google Workspace is not answering right now (${c.reason}); try again`
          : `the directory read failed (${c.reason})`;
    app.log.warn('connection test failed', { tenantId, kind: c.kind });
    return { ok: false, reason, needsReauthorization: false, checkedAt };
  }
}
