import type { UserRecord } from './model.js';
import type { DirectoryMethod } from './scopes.js';

/**
 * What a delegated admin (a custom admin role, Admin console > Account > Admin roles) may do with the Directory
 * API. A super admin may do everything; a delegated admin only what its role's privileges allow, and Google
 * answers anything else with 403 `forbidden` "Not Authorized to access this resource/api" (the same answer a
 * user who is no admin at all gets), not naming the missing privilege.
 *
 * The Admin API privileges have documented constants (Roles API `privilegeName`): USERS_RETRIEVE,
 * ORGANIZATION_UNITS_RETRIEVE, GROUPS_RETRIEVE. The device privileges sit under "Services" in the Admin console,
 * whose API constants we found no documentation of; the simulator names them after the console's checkboxes.
 */
export const ADMIN_PRIVILEGES = [
  'USERS_RETRIEVE',
  'ORGANIZATION_UNITS_RETRIEVE',
  'GROUPS_RETRIEVE',
  /** Services > Chrome Management > Settings > Manage ChromeOS Devices (read only) */
  'CHROME_OS_DEVICES_READ',
  /** Services > Mobile Device Management > Manage Devices and Settings */
  'MOBILE_DEVICES_MANAGE',
] as const;
export type AdminPrivilege = (typeof ADMIN_PRIVILEGES)[number];

/** The privilege each method needs of a delegated admin; absent: any admin may call it. */
const METHOD_PRIVILEGE: Partial<Record<DirectoryMethod, AdminPrivilege>> = {
  'directory.users.list': 'USERS_RETRIEVE',
  'directory.users.get': 'USERS_RETRIEVE',
  'directory.users.watch': 'USERS_RETRIEVE',
  'directory.orgunits.list': 'ORGANIZATION_UNITS_RETRIEVE',
  'directory.orgunits.get': 'ORGANIZATION_UNITS_RETRIEVE',
  'directory.groups.list': 'GROUPS_RETRIEVE',
  'directory.groups.get': 'GROUPS_RETRIEVE',
  'directory.members.list': 'GROUPS_RETRIEVE',
  'directory.chromeosdevices.list': 'CHROME_OS_DEVICES_READ',
  'directory.chromeosdevices.get': 'CHROME_OS_DEVICES_READ',
  'directory.chromeosdevices.update': 'CHROME_OS_DEVICES_READ',
  'directory.chromeosdevices.patch': 'CHROME_OS_DEVICES_READ',
  'directory.chromeosdevices.action': 'CHROME_OS_DEVICES_READ',
  'directory.chromeosdevices.moveDevicesToOu': 'CHROME_OS_DEVICES_READ',
  'directory.customer.devices.chromeos.batchChangeStatus': 'CHROME_OS_DEVICES_READ',
  'directory.mobiledevices.list': 'MOBILE_DEVICES_MANAGE',
  'directory.mobiledevices.get': 'MOBILE_DEVICES_MANAGE',
  'directory.mobiledevices.action': 'MOBILE_DEVICES_MANAGE',
};

/**
 * Whether the signed-in user may call the method. `adminPrivileges` undefined on a delegated admin means a role
 * with every privilege above (the seeded delegated admins); a list means exactly those.
 */
export function mayCall(user: UserRecord, method: DirectoryMethod): boolean {
  if (user.isAdmin) return true;
  if (!user.isDelegatedAdmin) return false;
  const needed = METHOD_PRIVILEGE[method];
  if (!needed || user.adminPrivileges === undefined) return true;
  return user.adminPrivileges.includes(needed);
}
