import type { admin_directory_v1 } from 'googleapis';

export type ApiUser = admin_directory_v1.Schema$User;
export type ApiOrgUnit = admin_directory_v1.Schema$OrgUnit;
export type ApiChromeOsDevice = admin_directory_v1.Schema$ChromeOsDevice;
export type ApiMobileDevice = admin_directory_v1.Schema$MobileDevice;
export type ApiCustomer = admin_directory_v1.Schema$Customer;
export type ApiGroup = admin_directory_v1.Schema$Group;
export type ApiMember = admin_directory_v1.Schema$Member;

/**
 * The in-memory records are compact on purpose: a 200k-user tenant must stay well under 1 KB per user, so only
 * what is needed for lookups, filters and sorting lives here. Everything else (phones, organizations, ...) is
 * re-derived on demand from `detailSeed`, and admin edits are layered on top through `patch`.
 */
export interface OrgUnitRecord {
  orgUnitId: string;
  name: string;
  description: string;
  parentId: string | null;
}

export type UserRole = 'student' | 'staff' | 'other';

/** Fields whose generated value an admin edit can replace; `null` removes the field from the resource. */
export const PATCHABLE_USER_DETAILS = [
  'phones',
  'organizations',
  'externalIds',
  'locations',
  'relations',
  'addresses',
  'customSchemas',
  'recoveryEmail',
  'recoveryPhone',
  'thumbnailPhotoUrl',
  'includeInGlobalAddressList',
  'languages',
  'websites',
  'notes',
  'ims',
  'keywords',
  'gender',
  'nonEditableAliases',
] as const;
export type PatchableUserDetail = (typeof PATCHABLE_USER_DETAILS)[number];
export type UserDetailPatch = { [K in PatchableUserDetail]?: ApiUser[K] | null };

export interface UserRecord {
  id: string;
  primaryEmail: string;
  givenName: string;
  familyName: string;
  ouId: string;
  role: UserRole;
  isAdmin: boolean;
  isDelegatedAdmin: boolean;
  /** A delegated admin's custom role (admin-privileges.ts); undefined: every privilege. */
  adminPrivileges?: string[] | undefined;
  suspended: boolean;
  suspensionReason: string | undefined;
  suspensionTime: number | undefined;
  archived: boolean;
  archivalTime: number | undefined;
  isEnrolledIn2Sv: boolean;
  isEnforcedIn2Sv: boolean;
  changePasswordAtNextLogin: boolean;
  creationTime: number;
  /** 0 = never signed in (the API then reports the Unix epoch). */
  lastLoginTime: number;
  deletionTime: number | undefined;
  aliases: string[] | undefined;
  detailSeed: number;
  patch: UserDetailPatch | undefined;
}

export type ChromeOsStatus = 'ACTIVE' | 'DISABLED' | 'DEPROVISIONED' | 'PROVISIONED';

export interface ChromeOsRecord {
  deviceId: string;
  serialNumber: string;
  status: ChromeOsStatus;
  ouId: string;
  annotatedUser: string | undefined;
  annotatedAssetId: string | undefined;
  annotatedLocation: string | undefined;
  notes: string | undefined;
  model: string;
  lastSync: number;
  firstEnrollmentTime: number;
  lastEnrollmentTime: number;
  /** Email of the most recent signed-in user, when there is one. */
  recentUser: string | undefined;
  detailSeed: number;
  patch: Partial<ApiChromeOsDevice> | undefined;
}

export type MobileType = 'ANDROID' | 'IOS_SYNC' | 'GOOGLE_SYNC';
/**
 * APPROVED/PENDING/BLOCKED are seeded; WIPING and ACCOUNT_WIPING are what mobiledevices.action's wipes leave
 * behind (the simulator has no device agent to finish a wipe).
 */
export type MobileStatus = 'APPROVED' | 'PENDING' | 'BLOCKED' | 'WIPING' | 'ACCOUNT_WIPING';

export interface MobileRecord {
  resourceId: string;
  deviceId: string;
  serialNumber: string;
  type: MobileType;
  status: MobileStatus;
  ownerEmails: string[];
  ownerNames: string[];
  model: string;
  os: string;
  firstSync: number;
  lastSync: number;
  detailSeed: number;
  patch: Partial<ApiMobileDevice> | undefined;
}

/** Roles and member types as the Member schema documents them. */
export type MemberRole = 'OWNER' | 'MANAGER' | 'MEMBER';
export type MemberType = 'USER' | 'GROUP' | 'CUSTOMER' | 'EXTERNAL';

/**
 * One direct membership. USER and GROUP members point at the record by id, so a rename shows up in the member
 * list (the Member schema: "If the email address is changed, the API automatically reflects the email address
 * changes"). CUSTOMER ("all users in the domain") has no email; EXTERNAL keeps the address it was added with.
 */
export interface MemberRecord {
  /** User id, group id, customer id, or a generated id for an external account. */
  id: string;
  type: MemberType;
  role: MemberRole;
  /** Only for EXTERNAL members. */
  email: string | undefined;
}

export interface GroupRecord {
  id: string;
  email: string;
  name: string;
  description: string;
  adminCreated: boolean;
  aliases: string[] | undefined;
  /** Direct members, kept sorted by member id: listings page over them in that order. */
  members: MemberRecord[];
}
