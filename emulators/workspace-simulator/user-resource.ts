import { etagFor } from './etag.js';
import type { ApiUser, UserRecord } from './model.js';
import { PATCHABLE_USER_DETAILS } from './model.js';
import { BUILDINGS, DEPARTMENTS, STAFF_TITLES } from './name-pools.js';
import { mulberry32, randomBase64Url, randomDigits } from './prng.js';
import { STUDENT_OUS } from './seed.js';
import type { Workspace } from './workspace.js';

export type UserProjection = 'basic' | 'full' | 'custom';
export type UserViewType = 'admin_view' | 'domain_public';

export interface UserRenderOptions {
  projection: UserProjection;
  /** Schema names for `projection=custom`. */
  customFieldMask?: readonly string[];
  viewType?: UserViewType;
}

export const EMPLOYEE_SCHEMA = 'EmployeeData';

const iso = (ms: number) => new Date(ms).toISOString();

function buildingFor(ouPath: string): string | undefined {
  return BUILDINGS.find((b) => ouPath.includes(b));
}

/**
 * The optional, bulky parts of a user, derived from `detailSeed` each time instead of stored (memory budget).
 * Some users deliberately lack phones, organizations, photos... as real tenants do.
 */
function generatedDetails(ws: Workspace, u: UserRecord): Partial<ApiUser> {
  const rng = mulberry32(u.detailSeed);
  const local = u.primaryEmail.slice(0, u.primaryEmail.indexOf('@'));
  const ouPath = ws.ouPath(u.ouId);
  const building = buildingFor(ouPath) ?? rng.pick(BUILDINGS);
  const d: Partial<ApiUser> = {};
  const staff = u.role === 'staff';
  const student = u.role === 'student';

  if (rng.chance(staff ? 0.85 : student ? 0.9 : 0.2)) {
    d.externalIds = student
      ? [{ value: `S${randomDigits(rng, 7)}`, type: 'custom', customType: 'studentId' }]
      : [{ value: `E${randomDigits(rng, 6)}`, type: 'organization' }];
  }
  if (rng.chance(staff ? 0.25 : 0)) {
    d.relations = [{ value: `admin@${ws.domain}`, type: 'manager' }];
  }
  if (staff && rng.chance(0.9)) {
    const org: Record<string, unknown> = {
      title: rng.pick(STAFF_TITLES),
      primary: true,
      customType: '',
      department: rng.pick(DEPARTMENTS),
      description: 'Staff',
    };
    if (rng.chance(0.4)) org['costCenter'] = `CC-${randomDigits(rng, 3)}`;
    if (rng.chance(0.5)) org['location'] = building;
    d.organizations = [org];
  } else if (student && rng.chance(0.8)) {
    const dept = ouPath.slice(ouPath.lastIndexOf('/') + 1);
    d.organizations = [
      { title: 'Student', primary: true, customType: '', department: dept, description: 'Student' },
    ];
  } else if (!staff && !student && rng.chance(0.3)) {
    d.organizations = [{ name: 'Acme Facilities Ltd.', title: 'Contractor', primary: true, customType: '' }];
  }
  if (rng.chance(staff ? 0.7 : student ? 0.05 : 0.3)) {
    d.phones = [{ value: `+1 555-01${randomDigits(rng, 2)}-${randomDigits(rng, 4)}`, type: 'work' }];
    if (rng.chance(0.3)) d.phones.push({ value: `+1555${randomDigits(rng, 7)}`, type: 'mobile' });
  }
  if (rng.chance(0.45)) d.nonEditableAliases = [`${local}@${ws.domain}.test-google-a.com`];
  if (staff && rng.chance(0.4)) {
    d.locations = [
      {
        type: 'desk',
        area: 'desk',
        buildingId: building.replace(/[^A-Z]/g, '') || 'HQ',
        floorName: String(rng.range(1, 3)),
        floorSection: rng.pick(['A', 'B', 'C']),
      },
    ];
  }
  if (staff && rng.chance(0.2)) {
    d.addresses = [
      {
        type: 'work',
        formatted: `${rng.range(100, 9999)} Lincoln Ave\nSpringfield, IL 627${randomDigits(rng, 2)}`,
        primary: true,
      },
    ];
  }
  if (rng.chance(0.3))
    d.languages = [{ languageCode: rng.chance(0.8) ? 'en' : 'es', preference: 'preferred' }];
  d.includeInGlobalAddressList = !student || rng.chance(0.5);
  if (rng.chance(0.55)) {
    d.thumbnailPhotoUrl = `https://lh3.googleusercontent.com/a-/ALV-Uj${randomBase64Url(rng, 60)}=s96-c`;
    d.thumbnailPhotoEtag = `"${randomBase64Url(rng, 27)}"`;
  }
  if (staff && rng.chance(0.2)) d.recoveryEmail = `${local.replace(/'/g, '')}.home@gmail.example`;
  if (rng.chance(0.08)) d.recoveryPhone = `+1555${randomDigits(rng, 7)}`;

  const employee: Record<string, unknown> = {};
  if (staff && rng.chance(0.8)) {
    employee['employeeNumber'] = `E${randomDigits(rng, 6)}`;
    employee['building'] = building;
    if (rng.chance(0.2))
      employee['certifications'] = [{ type: 'work', value: rng.pick(['CPR', 'First Aid', 'ESL']) }];
  } else if (student && rng.chance(0.9)) {
    const grade = STUDENT_OUS.find(([p]) => p === ouPath)?.[1] ?? -1;
    employee['gradeLevel'] = grade >= 0 ? String(grade) : rng.pick(['K', '1', '2', '3', '4', '5']);
    employee['building'] = building;
  }
  if (Object.keys(employee).length > 0) d.customSchemas = { [EMPLOYEE_SCHEMA]: employee };
  return d;
}

/** The admin view of a user with every custom schema, before projection, without `etag`. */
function fullUserBody(ws: Workspace, u: UserRecord): ApiUser {
  const details = generatedDetails(ws, u);
  if (u.patch) {
    for (const key of PATCHABLE_USER_DETAILS) {
      const value = u.patch[key];
      if (value === undefined) continue;
      if (value === null) delete details[key];
      else (details as Record<string, unknown>)[key] = value;
    }
    if (u.patch.thumbnailPhotoUrl === null) delete details.thumbnailPhotoEtag;
  }
  const emails: Array<Record<string, unknown>> = [{ address: u.primaryEmail, primary: true }];
  for (const a of u.aliases ?? []) emails.push({ address: a });
  for (const a of (details.nonEditableAliases as string[] | undefined) ?? []) emails.push({ address: a });

  const user: ApiUser = {
    kind: 'admin#directory#user',
    id: u.id,
    primaryEmail: u.primaryEmail,
    name: { givenName: u.givenName, familyName: u.familyName, fullName: `${u.givenName} ${u.familyName}` },
    isAdmin: u.isAdmin,
    isDelegatedAdmin: u.isDelegatedAdmin,
    // Accounts that never signed in report the Unix epoch, not a missing field.
    lastLoginTime: iso(u.lastLoginTime),
    creationTime: iso(u.creationTime),
    agreedToTerms: u.lastLoginTime > 0,
    suspended: u.suspended,
  };
  if (u.suspended) {
    user.suspensionReason = u.suspensionReason ?? 'ADMIN';
    if (u.suspensionTime !== undefined) user.suspensionTime = iso(u.suspensionTime);
  }
  user.archived = u.archived;
  if (u.archived && u.archivalTime !== undefined) user.archivalTime = iso(u.archivalTime);
  user.changePasswordAtNextLogin = u.changePasswordAtNextLogin;
  user.ipWhitelisted = false;
  user.emails = emails;
  for (const key of [
    'externalIds',
    'relations',
    'addresses',
    'organizations',
    'phones',
    'locations',
  ] as const) {
    if (details[key] !== undefined) user[key] = details[key];
  }
  if (u.aliases?.length) user.aliases = [...u.aliases];
  if (details.nonEditableAliases !== undefined) user.nonEditableAliases = details.nonEditableAliases;
  for (const key of ['languages', 'websites', 'ims', 'keywords', 'gender', 'notes'] as const) {
    if (details[key] !== undefined) user[key] = details[key];
  }
  user.customerId = ws.customerId;
  user.orgUnitPath = ws.ouPath(u.ouId);
  user.isMailboxSetup = u.lastLoginTime > 0 || u.role === 'staff';
  user.isEnrolledIn2Sv = u.isEnrolledIn2Sv;
  user.isEnforcedIn2Sv = u.isEnforcedIn2Sv;
  if (details.includeInGlobalAddressList !== undefined) {
    user.includeInGlobalAddressList = details.includeInGlobalAddressList;
  }
  if (details.thumbnailPhotoUrl !== undefined) user.thumbnailPhotoUrl = details.thumbnailPhotoUrl;
  if (details.thumbnailPhotoEtag !== undefined) user.thumbnailPhotoEtag = details.thumbnailPhotoEtag;
  if (details.recoveryEmail !== undefined) user.recoveryEmail = details.recoveryEmail;
  if (details.recoveryPhone !== undefined) user.recoveryPhone = details.recoveryPhone;
  if (details.customSchemas !== undefined && Object.keys(details.customSchemas ?? {}).length > 0) {
    user.customSchemas = details.customSchemas;
  }
  if (u.deletionTime !== undefined) user.deletionTime = iso(u.deletionTime);
  return user;
}

const DOMAIN_PUBLIC_FIELDS = new Set([
  'kind',
  'id',
  'etag',
  'primaryEmail',
  'name',
  'emails',
  'phones',
  'organizations',
  'relations',
  'addresses',
  'locations',
  'thumbnailPhotoUrl',
  'thumbnailPhotoEtag',
]);

export function renderUser(ws: Workspace, u: UserRecord, options: UserRenderOptions): ApiUser {
  const full = fullUserBody(ws, u);
  // One etag per user state, independent of projection, so it doubles as a change fingerprint.
  const etag = etagFor(ws.etagPrefix, full);
  const { kind, id, ...rest } = full;
  const user: ApiUser = { kind, id, etag, ...rest };
  if (options.projection === 'basic') {
    delete user.customSchemas;
  } else if (options.projection === 'custom' && user.customSchemas) {
    const wanted = new Set((options.customFieldMask ?? []).map((s) => s.toLowerCase()));
    const kept = Object.fromEntries(
      Object.entries(user.customSchemas).filter(([name]) => wanted.has(name.toLowerCase())),
    );
    if (Object.keys(kept).length > 0) user.customSchemas = kept;
    else delete user.customSchemas;
  }
  if (options.viewType === 'domain_public') {
    for (const key of Object.keys(user)) {
      if (!DOMAIN_PUBLIC_FIELDS.has(key)) delete (user as Record<string, unknown>)[key];
    }
  }
  return user;
}

/** Used by search clauses that look at derived fields (orgTitle, externalId, custom schema values...). */
export function userForSearch(ws: Workspace, u: UserRecord): ApiUser {
  return fullUserBody(ws, u);
}
