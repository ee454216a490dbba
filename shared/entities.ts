/**
 * The Directory API entities a mapping can sync, with what the sync and the console need to know about each:
 * which identifiers are allowed, which source fields can be mapped, the page cap and the scope it needs.
 */
export const ENTITY_KINDS = ['users', 'chromeos', 'mobile', 'orgunits'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export const DIRECTORY_SCOPES = {
  user: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  orgunit: 'https://www.googleapis.com/auth/admin.directory.orgunit.readonly',
  chromeos: 'https://www.googleapis.com/auth/admin.directory.device.chromeos.readonly',
  mobile: 'https://www.googleapis.com/auth/admin.directory.device.mobile.readonly',
  customer: 'https://www.googleapis.com/auth/admin.directory.customer.readonly',
} as const;

/** Everything the service asks for: read-only, nothing more. */
export const REQUIRED_SCOPES: readonly string[] = Object.values(DIRECTORY_SCOPES);

export interface EntityDescriptor {
  kind: EntityKind;
  label: string;
  /** Identifiers an admin may choose as the record key, first is the default. */
  identifiers: readonly string[];
  /** The field that identifies the source object itself, whatever identifier the admin picked. */
  sourceIdField: string;
  /** Directory API maximum page size (orgunits are not paged). */
  maxPageSize: number | null;
  scope: string;
  /** Response list key, as in the discovery document. */
  listKey: string;
  /** Source fields the field map may read (dotted paths; `customSchemas.*` is open-ended). */
  fields: readonly string[];
  /** Fields the sync itself always needs (status, scope checks), whatever the admin maps. */
  systemFields: readonly string[];
}

export const ENTITIES: Record<EntityKind, EntityDescriptor> = {
  users: {
    kind: 'users',
    label: 'Users',
    identifiers: ['primaryEmail', 'id'],
    sourceIdField: 'id',
    maxPageSize: 500,
    scope: DIRECTORY_SCOPES.user,
    listKey: 'users',
    fields: [
      'id',
      'primaryEmail',
      'name.givenName',
      'name.familyName',
      'name.fullName',
      'orgUnitPath',
      'suspended',
      'archived',
      'isAdmin',
      'creationTime',
      'lastLoginTime',
      'thumbnailPhotoUrl',
      'aliases',
      'externalIds',
      'organizations',
      'phones',
      'locations',
      'relations',
      'recoveryEmail',
      'customerId',
      'isEnrolledIn2Sv',
      'customSchemas.*',
    ],
    systemFields: ['id', 'primaryEmail', 'orgUnitPath', 'suspended', 'archived', 'etag'],
  },
  chromeos: {
    kind: 'chromeos',
    label: 'Chrome OS devices',
    identifiers: ['serialNumber', 'annotatedAssetId', 'deviceId'],
    sourceIdField: 'deviceId',
    maxPageSize: 300,
    scope: DIRECTORY_SCOPES.chromeos,
    listKey: 'chromeosdevices',
    fields: [
      'deviceId',
      'serialNumber',
      'annotatedAssetId',
      'annotatedUser',
      'annotatedLocation',
      'notes',
      'model',
      'osVersion',
      'platformVersion',
      'firmwareVersion',
      'macAddress',
      'ethernetMacAddress',
      'meid',
      'status',
      'lastSync',
      'lastEnrollmentTime',
      'supportEndDate',
      'autoUpdateExpiration',
      'orgUnitPath',
      'orgUnitId',
      'bootMode',
      'recentUsers',
    ],
    systemFields: ['deviceId', 'serialNumber', 'annotatedAssetId', 'orgUnitPath', 'status', 'etag'],
  },
  mobile: {
    kind: 'mobile',
    label: 'Mobile devices',
    identifiers: ['deviceId', 'serialNumber', 'imei', 'wifiMacAddress'],
    sourceIdField: 'resourceId',
    maxPageSize: 100,
    scope: DIRECTORY_SCOPES.mobile,
    listKey: 'mobiledevices',
    fields: [
      'resourceId',
      'deviceId',
      'serialNumber',
      'imei',
      'meid',
      'wifiMacAddress',
      'hardwareId',
      'model',
      'os',
      'type',
      'status',
      'email',
      'name',
      'firstSync',
      'lastSync',
      'userAgent',
      'manufacturer',
      'brand',
    ],
    systemFields: ['resourceId', 'deviceId', 'serialNumber', 'imei', 'wifiMacAddress', 'status', 'etag'],
  },
  orgunits: {
    kind: 'orgunits',
    label: 'Organizational units',
    identifiers: ['orgUnitId', 'orgUnitPath'],
    sourceIdField: 'orgUnitId',
    maxPageSize: null,
    scope: DIRECTORY_SCOPES.orgunit,
    listKey: 'organizationUnits',
    fields: [
      'orgUnitId',
      'orgUnitPath',
      'name',
      'description',
      'parentOrgUnitId',
      'parentOrgUnitPath',
      'blockInheritance',
    ],
    systemFields: ['orgUnitId', 'orgUnitPath', 'etag'],
  },
};

/** True when `path` is a field the entity exposes (exact, or under an open-ended `prefix.*`). */
export function isKnownSourceField(kind: EntityKind, path: string): boolean {
  const fields = ENTITIES[kind].fields;
  if (fields.includes(path)) return true;
  return fields.some(
    (f) => f.endsWith('.*') && path.startsWith(f.slice(0, -1)) && path.length > f.length - 1,
  );
}
