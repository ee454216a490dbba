import type {
  ChromeOsRecord,
  ChromeOsStatus,
  GroupRecord,
  MobileRecord,
  MobileStatus,
  MobileType,
  OrgUnitRecord,
  UserRecord,
  UserRole,
} from './model.js';
import { ANDROID_MODELS, CHROMEBOOK_MODELS, FAMILY_NAMES, GIVEN_NAMES, IOS_MODELS } from './name-pools.js';
import type { Rng } from './prng.js';
import { defaultGroupCount, generateGroups } from './seed-groups.js';
import {
  hash32,
  mulberry32,
  randomAlnum,
  randomBase64Url,
  randomDigits,
  randomHex,
  randomUpperAlnum,
  randomUuid,
} from './prng.js';

export interface SeedSpec {
  domain: string;
  customerId?: string;
  seed?: number;
  /** Users returned by a default users.list, admin included. A few extra deleted users are generated on top. */
  users?: number;
  chromeos?: number;
  mobile?: number;
  /** Default: `defaultGroupCount(users)`, about one group per ten users. */
  groups?: number;
}

export const SEED_DEFAULTS = { users: 50, chromeos: 20, mobile: 10 } as const;

/**
 * Generated data is anchored to a fixed instant rather than the wall clock, so the same seed yields
 * byte-identical resources on every run (timestamps included).
 */
export const SEED_EPOCH_MS = Date.UTC(2025, 8, 1, 12, 0, 0);
const DAY_MS = 86_400_000;

export interface SeededWorkspace {
  customerId: string;
  domain: string;
  seed: number;
  customerCreationTime: number;
  rootOuId: string;
  orgUnits: OrgUnitRecord[];
  users: UserRecord[];
  adminUserId: string;
  chromeos: ChromeOsRecord[];
  mobile: MobileRecord[];
  groups: GroupRecord[];
}

interface OuTemplate {
  path: string;
  description: string;
}

const OU_TEMPLATE: readonly OuTemplate[] = [
  { path: '/Staff', description: 'All district employees' },
  { path: '/Staff/Teachers', description: 'Classroom teachers' },
  { path: '/Staff/IT', description: 'Technology department' },
  { path: '/Staff/Administration', description: 'Principals, registrars and district office' },
  { path: '/Staff/Café & Kitchen', description: 'Food services (name has an ampersand on purpose)' },
  { path: '/Schools', description: '' },
  { path: '/Schools/Lincoln High', description: 'Grades 9-12' },
  { path: '/Schools/Lincoln High/Students', description: '' },
  { path: '/Schools/Lincoln High/Students/Class of 2026', description: 'Seniors' },
  { path: '/Schools/Lincoln High/Students/Class of 2027', description: 'Juniors' },
  { path: '/Schools/Lincoln High/Students/Class of 2028', description: 'Sophomores' },
  { path: '/Schools/Lincoln High/Students/Class of 2029', description: 'Freshmen' },
  { path: '/Schools/Roosevelt Middle', description: 'Grades 6-8' },
  { path: '/Schools/Roosevelt Middle/Students', description: '' },
  { path: '/Schools/Roosevelt Middle/Students/Grade 6', description: '' },
  { path: '/Schools/Roosevelt Middle/Students/Grade 7', description: '' },
  { path: '/Schools/Roosevelt Middle/Students/Grade 8', description: '' },
  { path: '/Schools/Jefferson Elementary', description: 'Grades K-5' },
  { path: '/Schools/Jefferson Elementary/Students', description: '' },
  { path: '/Devices', description: 'Device-only OUs' },
  { path: '/Devices/Chromebooks', description: '' },
  { path: '/Devices/Chromebooks/Carts', description: 'Shared classroom carts' },
  { path: '/Devices/Chromebooks/Loaners', description: '' },
  { path: '/Devices/Chromebooks/Testing', description: 'Intentionally empty' },
  { path: '/Contractors', description: 'External contractors' },
  { path: '/Suspended Accounts', description: 'Leavers awaiting deletion' },
];

/** Student OUs with the grade level recorded in the EmployeeData custom schema; -1 = "K-5, pick one". */
export const STUDENT_OUS: ReadonlyArray<readonly [path: string, grade: number, classYear: string]> = [
  ['/Schools/Lincoln High/Students/Class of 2026', 12, '26'],
  ['/Schools/Lincoln High/Students/Class of 2027', 11, '27'],
  ['/Schools/Lincoln High/Students/Class of 2028', 10, '28'],
  ['/Schools/Lincoln High/Students/Class of 2029', 9, '29'],
  ['/Schools/Roosevelt Middle/Students/Grade 6', 6, '32'],
  ['/Schools/Roosevelt Middle/Students/Grade 7', 7, '31'],
  ['/Schools/Roosevelt Middle/Students/Grade 8', 8, '30'],
  ['/Schools/Jefferson Elementary/Students', -1, '33'],
];

const STAFF_OUS: ReadonlyArray<readonly [path: string, weight: number]> = [
  ['/Staff/Teachers', 60],
  ['/Staff/IT', 5],
  ['/Staff/Administration', 15],
  ['/Staff/Café & Kitchen', 10],
  ['/Staff', 10],
];

const OTHER_OUS: ReadonlyArray<readonly [path: string, weight: number]> = [
  ['/', 50],
  ['/Contractors', 35],
  ['/Suspended Accounts', 15],
];

export const generateOrgUnitId = (rng: Rng) => `id:03ph8a2z${randomAlnum(rng, 7)}`;
export const generateUserId = (rng: Rng) => `1${randomDigits(rng, 20)}`;

export function generateCustomerId(rng: Rng): string {
  return `C0${randomAlnum(rng, 7)}`;
}

export function defaultSeedFor(domain: string): number {
  return hash32(domain.toLowerCase());
}

function weighted<T>(rng: Rng, entries: ReadonlyArray<readonly [T, number]>): T {
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let roll = rng.next() * total;
  for (const [value, w] of entries) {
    roll -= w;
    if (roll < 0) return value;
  }
  return (entries[entries.length - 1] as readonly [T, number])[0];
}

export function generateWorkspace(spec: SeedSpec): SeededWorkspace {
  const domain = spec.domain.toLowerCase();
  const seed = (spec.seed ?? defaultSeedFor(domain)) >>> 0;
  // User/device data depends only on `seed`, so two tenants with one seed are identical apart from the domain.
  const rng = mulberry32(seed);
  const idRng = mulberry32(hash32(domain, seed));
  const customerId = spec.customerId ?? generateCustomerId(idRng);

  const { orgUnits, rootOuId, idByPath } = generateOrgUnits(rng);
  const ou = (path: string) => {
    const id = idByPath.get(path);
    if (!id) throw new Error(`seed template is missing ${path}`);
    return id;
  };

  const userCount = Math.max(1, Math.floor(spec.users ?? SEED_DEFAULTS.users));
  const deletedCount = Math.floor(userCount / 200);
  const usedEmails = new Set<string>();
  const nextSuffix = new Map<string, number>();
  const users: UserRecord[] = [];

  const admin = makeUser(rng, {
    localPart: 'admin',
    domain,
    givenName: 'Workspace',
    familyName: 'Admin',
    role: 'staff',
    ouId: ou('/Staff/IT'),
  });
  admin.isAdmin = true;
  admin.isEnrolledIn2Sv = true;
  admin.isEnforcedIn2Sv = true;
  admin.lastLoginTime = SEED_EPOCH_MS - 3_600_000;
  usedEmails.add(admin.primaryEmail);
  users.push(admin);

  const extraAdmins = userCount >= 20 ? Math.max(1, Math.floor(userCount / 300)) : 0;
  for (let i = 1; i < userCount + deletedCount; i++) {
    const roleRoll = rng.next();
    const role: UserRole = roleRoll < 0.65 ? 'student' : roleRoll < 0.9 ? 'staff' : 'other';
    const [givenName, givenAscii] = rng.pick(GIVEN_NAMES);
    const [familyName, familyAscii] = rng.pick(FAMILY_NAMES);
    let ouPath: string;
    let suffix = '';
    if (role === 'student') {
      const [path, , classYear] = rng.pick(STUDENT_OUS);
      ouPath = path;
      suffix = classYear;
    } else if (role === 'staff') {
      ouPath = weighted(rng, STAFF_OUS);
    } else {
      ouPath = weighted(rng, OTHER_OUS);
    }
    const base = `${givenAscii}.${familyAscii}${suffix}`;
    // Remember the next free number per base name: probing from 2 each time is quadratic on big tenants.
    let n = nextSuffix.get(base) ?? 1;
    let local = n === 1 ? base : `${base}${n}`;
    while (usedEmails.has(`${local}@${domain}`)) local = `${base}${++n}`;
    nextSuffix.set(base, n + 1);
    const user = makeUser(rng, { localPart: local, domain, givenName, familyName, role, ouId: ou(ouPath) });
    usedEmails.add(user.primaryEmail);

    if (i <= extraAdmins) {
      user.isAdmin = true;
      user.role = 'staff';
      user.ouId = ou('/Staff/IT');
    } else if (role === 'staff' && rng.chance(0.02)) {
      user.isDelegatedAdmin = true;
    }
    const suspended = ouPath === '/Suspended Accounts' ? rng.chance(0.8) : rng.chance(0.03);
    if (suspended && !user.isAdmin) {
      user.suspended = true;
      user.suspensionReason = 'ADMIN';
      user.suspensionTime = user.creationTime + Math.floor((SEED_EPOCH_MS - user.creationTime) * rng.next());
    }
    if (!user.isAdmin && rng.chance(0.01)) {
      user.archived = true;
      user.archivalTime = SEED_EPOCH_MS - rng.int(200) * DAY_MS;
    }
    if (rng.chance(role === 'staff' ? 0.15 : 0.02)) {
      const aliasLocal = `${givenAscii[0] ?? 'x'}${familyAscii}`.replace(/[^a-z0-9.'-]/g, '');
      const alias = `${aliasLocal}${rng.int(100)}@${domain}`;
      if (!usedEmails.has(alias)) {
        usedEmails.add(alias);
        user.aliases = [alias];
      }
    }
    if (i >= userCount) {
      // Recently deleted users stay restorable (and listable with showDeleted) for ~20 days.
      user.deletionTime = SEED_EPOCH_MS - rng.range(1, 19) * DAY_MS;
    }
    users.push(user);
  }

  const sortedUsers = assignSortedIds(rng, users);
  const liveUsers = sortedUsers.filter((u) => u.deletionTime === undefined);

  const chromeos = generateChromeOs(rng, spec.chromeos ?? SEED_DEFAULTS.chromeos, liveUsers, ou);
  const mobile = generateMobile(rng, spec.mobile ?? SEED_DEFAULTS.mobile, liveUsers);
  const groupCount = spec.groups ?? defaultGroupCount(userCount);
  const groups = generateGroups(seed, groupCount, domain, customerId, liveUsers, admin);

  return {
    customerId,
    domain,
    seed,
    customerCreationTime: SEED_EPOCH_MS - 9 * 365 * DAY_MS + rng.int(365) * DAY_MS,
    rootOuId,
    orgUnits,
    users: sortedUsers,
    adminUserId: admin.id,
    chromeos,
    mobile,
    groups,
  };
}

/**
 * Gives users random-looking 21-digit ids that come out already sorted: slot i of N owns the i-th slice of
 * the id space and users are dealt into slots by a random permutation. Avoids sorting 200k strings.
 */
function assignSortedIds(rng: Rng, users: UserRecord[]): UserRecord[] {
  const n = users.length;
  const slots = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = slots[i] as number;
    slots[i] = slots[j] as number;
    slots[j] = tmp;
  }
  const sliceWidth = 1e10 / n;
  const sorted = new Array<UserRecord>(n);
  for (let k = 0; k < n; k++) {
    const slot = slots[k] as number;
    const user = users[k] as UserRecord;
    const high = Math.floor((slot + rng.next()) * sliceWidth);
    user.id = `1${String(high).padStart(10, '0')}${randomDigits(rng, 10)}`;
    sorted[slot] = user;
  }
  return sorted;
}

function generateOrgUnits(rng: Rng) {
  const rootOuId = generateOrgUnitId(rng);
  const orgUnits: OrgUnitRecord[] = [{ orgUnitId: rootOuId, name: '', description: '', parentId: null }];
  const idByPath = new Map<string, string>([['/', rootOuId]]);
  for (const t of OU_TEMPLATE) {
    const cut = t.path.lastIndexOf('/');
    const parentPath = cut === 0 ? '/' : t.path.slice(0, cut);
    const parentId = idByPath.get(parentPath);
    if (!parentId) throw new Error(`OU template parent missing for ${t.path}`);
    const orgUnitId = generateOrgUnitId(rng);
    orgUnits.push({ orgUnitId, name: t.path.slice(cut + 1), description: t.description, parentId });
    idByPath.set(t.path, orgUnitId);
  }
  return { orgUnits, rootOuId, idByPath };
}

interface UserSeed {
  localPart: string;
  domain: string;
  givenName: string;
  familyName: string;
  role: UserRole;
  ouId: string;
}

function makeUser(rng: Rng, s: UserSeed): UserRecord {
  const creationTime = SEED_EPOCH_MS - rng.range(1, 8 * 365) * DAY_MS - rng.int(DAY_MS);
  const neverLoggedIn = rng.chance(0.08);
  return {
    id: '',
    primaryEmail: `${s.localPart}@${s.domain}`,
    givenName: s.givenName,
    familyName: s.familyName,
    ouId: s.ouId,
    role: s.role,
    isAdmin: false,
    isDelegatedAdmin: false,
    suspended: false,
    suspensionReason: undefined,
    suspensionTime: undefined,
    archived: false,
    archivalTime: undefined,
    isEnrolledIn2Sv: rng.chance(s.role === 'staff' ? 0.6 : 0.1),
    isEnforcedIn2Sv: false,
    changePasswordAtNextLogin: rng.chance(0.02),
    creationTime,
    lastLoginTime: neverLoggedIn ? 0 : creationTime + Math.floor((SEED_EPOCH_MS - creationTime) * rng.next()),
    deletionTime: undefined,
    aliases: undefined,
    detailSeed: rng.uint32(),
    patch: undefined,
  };
}

export function serialNumberFor(rng: Rng, model: string): string {
  if (model.startsWith('Lenovo')) return `PF${randomUpperAlnum(rng, 6)}`;
  if (model.startsWith('HP')) return `5CD${rng.range(1000, 9999)}${randomUpperAlnum(rng, 3)}`;
  if (model.startsWith('Acer')) return `NXHP${randomUpperAlnum(rng, 16)}`;
  if (model.startsWith('Dell')) return randomUpperAlnum(rng, 7);
  return `${randomUpperAlnum(rng, 2)}${randomDigits(rng, 8)}`;
}

function generateChromeOs(
  rng: Rng,
  count: number,
  users: readonly UserRecord[],
  ou: (path: string) => string,
): ChromeOsRecord[] {
  const devices: ChromeOsRecord[] = [];
  const deviceOus: ReadonlyArray<readonly [string, number]> = [
    ['/Devices/Chromebooks', 50],
    ['/Devices/Chromebooks/Carts', 25],
    ['/Devices/Chromebooks/Loaners', 10],
    ['/Schools/Lincoln High', 8],
    ['/Schools/Roosevelt Middle', 7],
  ];
  for (let i = 0; i < count; i++) {
    const model = rng.pick(CHROMEBOOK_MODELS);
    const statusRoll = rng.next();
    let status: ChromeOsStatus =
      statusRoll < 0.86
        ? 'ACTIVE'
        : statusRoll < 0.89
          ? 'DISABLED'
          : statusRoll < 0.95
            ? 'DEPROVISIONED'
            : 'PROVISIONED';
    let serialNumber = serialNumberFor(rng, model);
    const previous = devices.length > 10 && rng.chance(0.01) ? devices[rng.int(devices.length)] : undefined;
    if (previous) {
      // Re-enrollment after a wipe creates a second record with the same serial; the old one is deprovisioned.
      serialNumber = previous.serialNumber;
      previous.status = 'DEPROVISIONED';
      status = 'ACTIVE';
    }
    const firstEnrollmentTime = SEED_EPOCH_MS - rng.range(30, 5 * 365) * DAY_MS;
    const lastEnrollmentTime = rng.chance(0.2)
      ? firstEnrollmentTime + Math.floor((SEED_EPOCH_MS - firstEnrollmentTime) * rng.next())
      : firstEnrollmentTime;
    const lastSync =
      status === 'ACTIVE'
        ? SEED_EPOCH_MS - rng.int(60 * DAY_MS)
        : lastEnrollmentTime + Math.floor((SEED_EPOCH_MS - lastEnrollmentTime) * rng.next() * 0.5);
    const user = users.length > 0 && rng.chance(0.7) ? rng.pick(users) : undefined;
    const recent =
      status === 'ACTIVE' && users.length > 0 && rng.chance(0.85) ? (user ?? rng.pick(users)) : undefined;
    devices.push({
      deviceId: randomUuid(rng),
      serialNumber,
      status,
      ouId: ou(weighted(rng, deviceOus)),
      annotatedUser: user?.primaryEmail,
      annotatedAssetId: rng.chance(0.8) ? `LPS-${randomDigits(rng, 6)}` : undefined,
      annotatedLocation: rng.chance(0.5)
        ? `${rng.pick(['Lincoln High', 'Roosevelt Middle', 'Library'])} ${rng.int(300)}`
        : undefined,
      notes: rng.chance(0.2) ? `Note ${rng.int(1000)}` : undefined,
      model,
      lastSync,
      firstEnrollmentTime,
      lastEnrollmentTime,
      recentUser: recent?.primaryEmail,
      detailSeed: rng.uint32(),
      patch: undefined,
    });
  }
  return devices.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
}

export function mobileIdentity(rng: Rng, type: MobileType) {
  const resourceId = `AFiQxQ${randomBase64Url(rng, 58)}`;
  if (type === 'ANDROID') {
    const [model, manufacturer] = rng.pick(ANDROID_MODELS);
    return {
      resourceId,
      deviceId: randomHex(rng, 16),
      serialNumber: randomUpperAlnum(rng, 11),
      model,
      manufacturer,
      os: `Android ${rng.range(12, 15)}`,
    };
  }
  if (type === 'IOS_SYNC') {
    return {
      resourceId,
      deviceId: `${randomUpperAlnum(rng, 8)}-${randomUpperAlnum(rng, 4)}-${randomUpperAlnum(rng, 4)}`,
      serialNumber: `F${randomUpperAlnum(rng, 11)}`,
      model: rng.pick(IOS_MODELS),
      manufacturer: 'Apple Inc.',
      os: `iOS ${rng.range(16, 18)}.${rng.int(6)}.${rng.int(3)}`,
    };
  }
  return {
    resourceId,
    deviceId: `SEC${randomHex(rng, 12).toUpperCase()}`,
    serialNumber: '',
    model: rng.pick(['Outlook', 'iPhone Mail', 'Android Exchange']),
    manufacturer: '',
    os: '',
  };
}

function generateMobile(rng: Rng, count: number, users: readonly UserRecord[]): MobileRecord[] {
  const devices: MobileRecord[] = [];
  if (users.length === 0) return devices;
  for (let i = 0; i < count; i++) {
    const owner = rng.pick(users);
    const typeRoll = rng.next();
    const type: MobileType = typeRoll < 0.5 ? 'ANDROID' : typeRoll < 0.85 ? 'IOS_SYNC' : 'GOOGLE_SYNC';
    const statusRoll = rng.next();
    const status: MobileStatus = statusRoll < 0.85 ? 'APPROVED' : statusRoll < 0.95 ? 'PENDING' : 'BLOCKED';
    const id = mobileIdentity(rng, type);
    const firstSync = SEED_EPOCH_MS - rng.range(10, 3 * 365) * DAY_MS;
    devices.push({
      resourceId: id.resourceId,
      deviceId: id.deviceId,
      serialNumber: id.serialNumber,
      type,
      status,
      ownerEmails: [owner.primaryEmail],
      ownerNames: [`${owner.givenName} ${owner.familyName}`],
      model: id.model,
      os: id.os,
      firstSync,
      lastSync: firstSync + Math.floor((SEED_EPOCH_MS - firstSync) * rng.next()),
      detailSeed: rng.uint32(),
      patch: undefined,
    });
  }
  return devices.sort((a, b) => (a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : 0));
}
