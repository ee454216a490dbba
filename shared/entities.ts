/**
 * The Directory API entities a mapping can sync, with what the sync and the console need to know about each:
 * which identifiers are allowed, which source fields can be mapped, the page cap and the scope it needs.
 */
export const ENTITY_KINDS = ['users', 'chromeos', 'mobile', 'orgunits', 'groups'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

/** Where objects come from. Google Workspace is the primary source; Microsoft Entra feeds merged people. */
export const SOURCE_KINDS = ['google', 'entra'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const DIRECTORY_SCOPES = {
  user: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  orgunit: 'https://www.googleapis.com/auth/admin.directory.orgunit.readonly',
  chromeos: 'https://www.googleapis.com/auth/admin.directory.device.chromeos.readonly',
  mobile: 'https://www.googleapis.com/auth/admin.directory.device.mobile.readonly',
  customer: 'https://www.googleapis.com/auth/admin.directory.customer.readonly',
  group: 'https://www.googleapis.com/auth/admin.directory.group.readonly',
} as const;

/** Everything the service asks for: read-only, nothing more. */
export const REQUIRED_SCOPES: readonly string[] = Object.values(DIRECTORY_SCOPES);

/**
 * What "device management" adds, asked for only when an owner or admin turns it on (incremental consent), and
 * the narrowest scopes Google documents for the device actions (Admin SDK Directory API reference, "Authorization
 * scopes" of each method):
 * - chromeosdevices.patch, customer.devices.chromeos.batchChangeStatus and chromeosdevices.moveDevicesToOu accept
 *   only `admin.directory.device.chromeos` (the `.readonly` variant covers list/get only);
 * - mobiledevices.action accepts `admin.directory.device.mobile` or `admin.directory.device.mobile.action`; the
 *   latter is narrower (actions only, no metadata updates or deletes), so it is the one asked for.
 * https://developers.google.com/workspace/admin/directory/reference/rest/v1/customer.devices.chromeos/batchChangeStatus
 * https://developers.google.com/workspace/admin/directory/reference/rest/v1/mobiledevices/action
 */
export const CHROMEOS_MANAGE_SCOPE = 'https://www.googleapis.com/auth/admin.directory.device.chromeos';
export const MOBILE_ACTION_SCOPE = 'https://www.googleapis.com/auth/admin.directory.device.mobile.action';
export const DEVICE_MANAGEMENT_SCOPES: readonly string[] = [CHROMEOS_MANAGE_SCOPE, MOBILE_ACTION_SCOPE];

export interface EntityDescriptor {
  kind: EntityKind;
  source: SourceKind;
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
    source: 'google',
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
    source: 'google',
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
    source: 'google',
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
    source: 'google',
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
  groups: {
    kind: 'groups',
    source: 'google',
    label: 'Groups',
    identifiers: ['email', 'id'],
    sourceIdField: 'id',
    maxPageSize: 200,
    scope: DIRECTORY_SCOPES.group,
    listKey: 'groups',
    fields: [
      'id',
      'email',
      'name',
      'description',
      'directMembersCount',
      'adminCreated',
      'aliases',
      // Not a field of Google's group resource: the sync lists each group's members (members.list) into it.
      'members',
    ],
    systemFields: ['id', 'email', 'etag'],
  },
};

/**
 * Microsoft Entra users as the Entra source hands them to a mapping: Graph's user plus `email` (mail, else
 * the UPN, normalized; absent for guests without a mailbox address) and `phone` (mobile, else the first business
 * phone), the two values a person needs that Graph does not give directly.
 */
export const ENTRA_USERS: EntityDescriptor = {
  kind: 'users',
  source: 'entra',
  label: 'Users (Microsoft Entra)',
  identifiers: ['email'],
  sourceIdField: 'id',
  maxPageSize: 999,
  scope: 'User.Read.All',
  listKey: 'value',
  fields: [
    'id',
    'email',
    'displayName',
    'givenName',
    'surname',
    'jobTitle',
    'department',
    'phone',
    'mobilePhone',
    'businessPhones',
    'employeeId',
    'accountEnabled',
    'userType',
    'userPrincipalName',
    'mail',
  ],
  systemFields: ['id', 'email', 'accountEnabled'],
};

/** The entities each source offers to mappings. */
export const SOURCE_ENTITIES: Record<SourceKind, Partial<Record<EntityKind, EntityDescriptor>>> = {
  google: ENTITIES,
  entra: { users: ENTRA_USERS },
};

/** The descriptor of a mapping's entity in its source (a mapping without a source reads Google). */
export function entityDescriptor(m: { source?: SourceKind; entity: EntityKind }): EntityDescriptor | null {
  return SOURCE_ENTITIES[m.source ?? 'google'][m.entity] ?? null;
}

/** True when `path` is a field the entity exposes (exact, or under an open-ended `prefix.*`). */
export function isKnownSourceField(kind: EntityKind, path: string, source: SourceKind = 'google'): boolean {
  const fields = SOURCE_ENTITIES[source][kind]?.fields ?? [];
  if (fields.includes(path)) return true;
  return fields.some(
    (f) => f.endsWith('.*') && path.startsWith(f.slice(0, -1)) && path.length > f.length - 1,
  );
}

/**
 * What the console shows for identifiers and source fields: the names Asset Panda's Google Workspace
 * integration and Google's Admin console use (Email, Serial Number, Asset ID, WiFi MAC ...), not the API's
 * (`primaryEmail`, `annotatedAssetId`, `wifiMacAddress`). Mappings still store the API names; a field without a
 * label here is shown by its API name. Served with the entities by GET /api/entities (`labels`).
 *
 * Google's `customerId` on a user is the Workspace account's ID, the same for every user of the account (the
 * Directory API discovery schema: "The customer ID to retrieve all account users"), so it is a field, never a
 * unique identifier: keyed by it, every user would collapse into one record.
 */
export const FIELD_LABELS: Record<
  SourceKind,
  Partial<Record<EntityKind, Readonly<Record<string, string>>>>
> = {
  google: {
    users: {
      id: 'User ID',
      primaryEmail: 'Email',
      'name.givenName': 'First Name',
      'name.familyName': 'Last Name',
      'name.fullName': 'Full Name',
      orgUnitPath: 'Org Unit Path',
      suspended: 'Suspended',
      archived: 'Archived',
      isAdmin: 'Super Admin',
      creationTime: 'Created',
      lastLoginTime: 'Last Sign-in',
      thumbnailPhotoUrl: 'Photo URL',
      aliases: 'Aliases',
      externalIds: 'External IDs',
      organizations: 'Organizations',
      phones: 'Phones',
      locations: 'Locations',
      relations: 'Relations',
      recoveryEmail: 'Recovery Email',
      customerId: 'Customer ID',
      isEnrolledIn2Sv: '2-Step Verification Enrolled',
    },
    chromeos: {
      deviceId: 'Directory API ID',
      serialNumber: 'Serial Number',
      annotatedAssetId: 'Asset ID',
      annotatedUser: 'Assigned User',
      annotatedLocation: 'Location',
      notes: 'Notes',
      model: 'Model',
      osVersion: 'OS Version',
      platformVersion: 'Platform Version',
      firmwareVersion: 'Firmware Version',
      macAddress: 'WiFi MAC',
      ethernetMacAddress: 'Ethernet MAC',
      meid: 'MEID',
      status: 'Status',
      lastSync: 'Last Sync',
      lastEnrollmentTime: 'Enrollment Time',
      supportEndDate: 'Support End Date',
      autoUpdateExpiration: 'Auto Update Expiration',
      orgUnitPath: 'Org Unit Path',
      orgUnitId: 'Org Unit ID',
      bootMode: 'Boot Mode',
      recentUsers: 'Recent Users',
    },
    mobile: {
      resourceId: 'Directory API ID',
      deviceId: 'Device ID',
      serialNumber: 'Serial Number',
      imei: 'IMEI',
      meid: 'MEID',
      wifiMacAddress: 'WiFi MAC',
      hardwareId: 'Hardware ID',
      model: 'Model',
      os: 'OS',
      type: 'Type',
      status: 'Status',
      email: 'User Email',
      name: 'User Name',
      firstSync: 'First Sync',
      lastSync: 'Last Sync',
      userAgent: 'User Agent',
      manufacturer: 'Manufacturer',
      brand: 'Brand',
    },
    orgunits: {
      orgUnitId: 'Org Unit ID',
      orgUnitPath: 'Org Unit Path',
      name: 'Name',
      description: 'Description',
      parentOrgUnitId: 'Parent Org Unit ID',
      parentOrgUnitPath: 'Parent Org Unit Path',
      blockInheritance: 'Block Inheritance',
    },
    groups: {
      id: 'Group ID',
      email: 'Email',
      name: 'Name',
      description: 'Description',
      directMembersCount: 'Direct Members',
      adminCreated: 'Created by an Admin',
      aliases: 'Aliases',
      members: 'Members',
    },
  },
  entra: {
    users: {
      id: 'Object ID',
      email: 'Email',
      displayName: 'Display Name',
      givenName: 'First Name',
      surname: 'Last Name',
      jobTitle: 'Job Title',
      department: 'Department',
      phone: 'Phone',
      mobilePhone: 'Mobile Phone',
      businessPhones: 'Business Phones',
      employeeId: 'Employee ID',
      accountEnabled: 'Account Enabled',
      userType: 'User Type',
      userPrincipalName: 'User Principal Name',
      mail: 'Mail',
    },
  },
};

/** The label of a source field or identifier (its API name when it has none, e.g. a custom schema field). */
export function fieldLabel(source: SourceKind, kind: EntityKind, path: string): string {
  return FIELD_LABELS[source][kind]?.[path] ?? path;
}
