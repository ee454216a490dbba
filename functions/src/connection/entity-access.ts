import type { OAuth2Client } from 'google-auth-library';
import { ENTITIES, ENTITY_KINDS, type EntityKind } from '../../../shared/entities.js';
import type { RuntimeConfig } from '../platform/config.js';
import { directoryClient } from '../sources/google/directory-client.js';
import { classifyDirectoryError } from '../sources/google/directory-errors.js';
import type { EntityAccess } from '../store/tenants.js';
import { shortScope } from './connect-errors.js';

/**
 * What the authorizing admin (or the admin a service account impersonates) may read, entity by entity. A
 * delegated admin's custom role may allow users but not devices: Google then answers that entity's listing with
 * 403 `forbidden` ("Not Authorized to access this resource/api"), without naming the privilege. The privilege
 * each entity needs is ours to name, from the Admin console's role editor (Account > Admin roles): the Admin API
 * privileges with their Roles API constants, the device ones under Services.
 */
export const ENTITY_PRIVILEGES: Record<EntityKind, string> = {
  users: 'Admin API privileges > Users > Read (USERS_RETRIEVE)',
  orgunits: 'Admin API privileges > Organizational Units > Read (ORGANIZATION_UNITS_RETRIEVE)',
  groups: 'Admin API privileges > Groups > Read (GROUPS_RETRIEVE)',
  chromeos:
    'Admin console privileges > Services > Chrome Management > Settings > Manage ChromeOS Devices (read only)',
  mobile: 'Admin console privileges > Services > Mobile Device Management > Manage Devices and Settings',
};

export const GOOGLE_ENTITY_KINDS = ENTITY_KINDS.filter((e) => ENTITIES[e].source === 'google');

/**
 * A 403 on one entity, in the terms the mapping and the connection page show: `forbidden` (the admin's role
 * lacks the privilege) names the privilege; `insufficientPermissions` (the token lacks the scope: unticked at
 * consent, or missing from the domain-wide delegation entry) names the scope.
 */
export function notPermitted(
  entity: EntityKind,
  reason: string,
  checkedAt: string,
): EntityAccess & { message: string } {
  const scopeMissing = reason === 'insufficientPermissions';
  const missingPrivilege = scopeMissing
    ? `OAuth scope ${shortScope(ENTITIES[entity].scope)}`
    : ENTITY_PRIVILEGES[entity];
  const message = scopeMissing
    ? `not permitted for this connection: its authorization lacks the scope ${shortScope(ENTITIES[entity].scope)} ` +
      `(Google answered 403 ${reason}); authorize again granting it, or add it to the domain-wide delegation entry`
    : `not permitted for this admin: the authorizing admin's role lacks the privilege "${missingPrivilege}" ` +
      `(Google answered 403 ${reason}); grant it in the Google Admin console (Account > Admin roles) or authorize ` +
      'with an admin who has it';
  return { permitted: false, missingPrivilege, reason: message, checkedAt, message };
}

/** The cheapest listing of each entity: one object, one field. */
async function listOne(
  admin: Awaited<ReturnType<typeof directoryClient>>,
  entity: EntityKind,
): Promise<void> {
  const opts = { retry: false } as const;
  switch (entity) {
    case 'users':
      await admin.users.list({ customer: 'my_customer', maxResults: 1, fields: 'users(id)' }, opts);
      return;
    case 'orgunits':
      await admin.orgunits.list(
        { customerId: 'my_customer', type: 'children', fields: 'organizationUnits(orgUnitId)' },
        opts,
      );
      return;
    case 'groups':
      await admin.groups.list({ customer: 'my_customer', maxResults: 1, fields: 'groups(id)' }, opts);
      return;
    case 'chromeos':
      await admin.chromeosdevices.list(
        { customerId: 'my_customer', maxResults: 1, fields: 'chromeosdevices(deviceId)' },
        opts,
      );
      return;
    case 'mobile':
      await admin.mobiledevices.list(
        { customerId: 'my_customer', maxResults: 1, fields: 'mobiledevices(resourceId)' },
        opts,
      );
      return;
  }
}

/**
 * Asks Google for one object of each entity: what the admin can read, and for what it cannot, the privilege or
 * scope to grant. Failures other than a 403 (Google unavailable, the grant gone) are thrown to the caller.
 */
export async function probeEntityAccess(
  config: RuntimeConfig,
  auth: OAuth2Client,
  checkedAt: string,
): Promise<Record<string, EntityAccess>> {
  const admin = await directoryClient(config, auth);
  const out: Record<string, EntityAccess> = {};
  for (const entity of GOOGLE_ENTITY_KINDS) {
    try {
      await listOne(admin, entity);
      out[entity] = { permitted: true, missingPrivilege: null, reason: null, checkedAt };
    } catch (err) {
      const c = classifyDirectoryError(err);
      if (c.kind !== 'forbidden' || c.status !== 403) throw err;
      const { message: _message, ...access } = notPermitted(entity, c.reason, checkedAt);
      out[entity] = access;
    }
  }
  return out;
}
