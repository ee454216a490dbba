import type {
  ChromeOsUpdateInput,
  MobileUpdateInput,
  NewChromeOsInput,
  NewMobileInput,
  NewOrgUnitInput,
  NewUserInput,
  OrgUnitUpdateInput,
  UndeleteUserInput,
  UserUpdateInput,
} from './control-schemas.js';
import { etagPrefixFor } from './etag.js';
import type {
  ChromeOsRecord,
  MobileRecord,
  OrgUnitRecord,
  PatchableUserDetail,
  UserDetailPatch,
  UserRecord,
} from './model.js';
import { PATCHABLE_USER_DETAILS } from './model.js';
import type { SortedView } from './paging.js';
import { buildSortedView, idOrderView, insertSorted, removeSorted } from './paging.js';
import type { Rng } from './prng.js';
import { hash32, mulberry32, randomUuid } from './prng.js';
import { GroupStore } from './group-store.js';
import type { SeededWorkspace } from './seed.js';
import { WorkspaceError } from './workspace-error.js';
import { generateOrgUnitId, generateUserId, mobileIdentity } from './seed.js';

export { WorkspaceError };

const normalizeEmail = (email: string) => email.trim().toLowerCase();
const parseTime = (iso: string | undefined, fallback: number) => (iso ? Date.parse(iso) : fallback);

export type UserOrder = 'id' | 'email' | 'givenName' | 'familyName';
export type ChromeOsOrder =
  | 'deviceId'
  | 'serialNumber'
  | 'lastSync'
  | 'status'
  | 'annotatedUser'
  | 'annotatedLocation'
  | 'notes'
  | 'supportEndDate';
export type MobileOrder =
  'resourceId' | 'deviceId' | 'email' | 'lastSync' | 'model' | 'name' | 'os' | 'status' | 'type';

/**
 * One Google Workspace customer: org units, users and devices plus the indexes the API needs. Records are kept
 * sorted by their immutable id; other orderings are cached views rebuilt lazily after a mutation.
 */
export class Workspace {
  readonly customerId: string;
  readonly domain: string;
  readonly seed: number;
  readonly customerCreationTime: number;
  readonly adminUserId: string;
  readonly rootOuId: string;
  readonly etagPrefix: string;

  private readonly rng: Rng;
  private readonly orgUnits = new Map<string, OrgUnitRecord>();
  private ouPaths = new Map<string, string>();
  private ouIdsByPath = new Map<string, string>();
  private readonly users: UserRecord[];
  private readonly usersByEmail = new Map<string, UserRecord>();
  private readonly chromeos: ChromeOsRecord[];
  private readonly chromeosById = new Map<string, ChromeOsRecord>();
  private readonly mobile: MobileRecord[];
  private readonly mobileById = new Map<string, MobileRecord>();
  private readonly views = new Map<string, SortedView<unknown>>();
  readonly groups: GroupStore;
  private renameGeneration = 0;

  /** Told of every user change (the control API's writes): push notifications (watch-channels.ts). */
  onUserChange?: (event: 'add' | 'delete' | 'makeAdmin' | 'undelete' | 'update', user: UserRecord) => void;

  constructor(seeded: SeededWorkspace) {
    this.customerId = seeded.customerId;
    this.domain = seeded.domain;
    this.seed = seeded.seed;
    this.customerCreationTime = seeded.customerCreationTime;
    this.adminUserId = seeded.adminUserId;
    this.rootOuId = seeded.rootOuId;
    this.etagPrefix = etagPrefixFor(seeded.customerId);
    this.rng = mulberry32(hash32(`mutations:${seeded.customerId}`, seeded.seed));
    for (const ou of seeded.orgUnits) this.orgUnits.set(ou.orgUnitId, ou);
    this.recomputeOuPaths();
    this.users = seeded.users;
    for (const u of this.users) this.indexUser(u);
    this.chromeos = seeded.chromeos;
    for (const d of this.chromeos) this.chromeosById.set(d.deviceId, d);
    this.mobile = seeded.mobile;
    for (const d of this.mobile) this.mobileById.set(d.resourceId, d);
    this.groups = new GroupStore(seeded.groups, {
      customerId: this.customerId,
      rng: this.rng,
      ownsEmail: (email) => this.ownsEmail(email),
      findUser: (key) => this.findUser(key),
      userHoldsEmail: (email) => this.findUser(email) !== undefined,
    });
  }

  // ---------------------------------------------------------------- org units

  ouPath(ouId: string): string {
    return this.ouPaths.get(ouId) ?? '/';
  }

  orgUnit(ouId: string): OrgUnitRecord | undefined {
    return this.orgUnits.get(ouId);
  }

  allOrgUnits(): OrgUnitRecord[] {
    return [...this.orgUnits.values()];
  }

  /** Accepts `/A/B`, `A/B` (the API's "path minus the leading slash"), `id:xyz` or a bare id; case-insensitive. */
  resolveOrgUnit(ref: string): OrgUnitRecord | undefined {
    const trimmed = ref.trim();
    if (trimmed.startsWith('id:')) return this.orgUnits.get(trimmed);
    const byBareId = this.orgUnits.get(`id:${trimmed}`);
    if (byBareId) return byBareId;
    const id = this.ouIdsByPath.get(Workspace.normalizeOuPath(trimmed).toLowerCase());
    return id ? this.orgUnits.get(id) : undefined;
  }

  static normalizeOuPath(path: string): string {
    const collapsed = `/${path.trim()}`.replace(/\/+/g, '/');
    return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
  }

  childrenOf(ouId: string): OrgUnitRecord[] {
    return [...this.orgUnits.values()].filter((o) => o.parentId === ouId);
  }

  /** The org unit and all its descendants. */
  subtreeIds(ouId: string): Set<string> {
    const out = new Set<string>([ouId]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const o of this.orgUnits.values()) {
        if (o.parentId && out.has(o.parentId) && !out.has(o.orgUnitId)) {
          out.add(o.orgUnitId);
          grew = true;
        }
      }
    }
    return out;
  }

  private recomputeOuPaths(): void {
    const paths = new Map<string, string>();
    const pathOf = (id: string, depth = 0): string => {
      const known = paths.get(id);
      if (known) return known;
      const ou = this.orgUnits.get(id);
      if (!ou || ou.parentId === null) return '/';
      if (depth > 64) throw new Error('org unit cycle');
      const parent = pathOf(ou.parentId, depth + 1);
      const path = parent === '/' ? `/${ou.name}` : `${parent}/${ou.name}`;
      paths.set(id, path);
      return path;
    };
    paths.set(this.rootOuId, '/');
    for (const id of this.orgUnits.keys()) pathOf(id);
    this.ouPaths = paths;
    this.ouIdsByPath = new Map([...paths].map(([id, p]) => [p.toLowerCase(), id]));
  }

  private requireOrgUnit(ref: string): OrgUnitRecord {
    const ou = this.resolveOrgUnit(ref);
    if (!ou) throw new WorkspaceError(404, `org unit not found: ${ref}`);
    return ou;
  }

  addOrgUnit(input: NewOrgUnitInput): OrgUnitRecord {
    const parent = this.requireOrgUnit(input.parentOrgUnitPath ?? '/');
    const path = `${this.ouPath(parent.orgUnitId).replace(/\/$/, '')}/${input.name}`;
    if (this.resolveOrgUnit(path)) throw new WorkspaceError(409, `org unit already exists: ${path}`);
    const ou: OrgUnitRecord = {
      orgUnitId: generateOrgUnitId(this.rng),
      name: input.name,
      description: input.description ?? '',
      parentId: parent.orgUnitId,
    };
    this.orgUnits.set(ou.orgUnitId, ou);
    this.recomputeOuPaths();
    return ou;
  }

  /** Rename and/or move; descendants, users and devices follow because they reference the OU by id. */
  updateOrgUnit(input: OrgUnitUpdateInput): OrgUnitRecord {
    const ou = this.requireOrgUnit(input.orgUnitPath);
    if (ou.parentId === null && (input.name !== undefined || input.parentOrgUnitPath !== undefined)) {
      throw new WorkspaceError(400, 'the root org unit cannot be renamed or moved');
    }
    const newParent =
      input.parentOrgUnitPath !== undefined ? this.requireOrgUnit(input.parentOrgUnitPath) : undefined;
    if (newParent && this.subtreeIds(ou.orgUnitId).has(newParent.orgUnitId)) {
      throw new WorkspaceError(400, 'cannot move an org unit below itself');
    }
    const name = input.name ?? ou.name;
    const parentId = newParent?.orgUnitId ?? ou.parentId;
    const clash = [...this.orgUnits.values()].find(
      (o) => o !== ou && o.parentId === parentId && o.name.toLowerCase() === name.toLowerCase(),
    );
    if (clash) throw new WorkspaceError(409, `an org unit named ${name} already exists there`);
    ou.name = name;
    ou.parentId = parentId;
    if (input.description !== undefined) ou.description = input.description;
    this.recomputeOuPaths();
    this.touchUsers();
    this.touchChromeOs();
    return ou;
  }

  // ---------------------------------------------------------------- users

  /** Binary search: the id-sorted array doubles as the id index (one Map less per 200k users). */
  private userById(id: string): UserRecord | undefined {
    let lo = 0;
    let hi = this.users.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const u = this.users[mid] as UserRecord;
      if (u.id === id) return u;
      if (u.id < id) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }

  private indexUser(u: UserRecord): void {
    this.usersByEmail.set(normalizeEmail(u.primaryEmail), u);
    for (const a of u.aliases ?? []) this.usersByEmail.set(normalizeEmail(a), u);
  }

  private unindexEmails(u: UserRecord): void {
    for (const e of [u.primaryEmail, ...(u.aliases ?? [])]) {
      if (this.usersByEmail.get(normalizeEmail(e)) === u) this.usersByEmail.delete(normalizeEmail(e));
    }
  }

  get userCount(): number {
    return this.users.length;
  }

  /** Lookup by id, primary email or alias. Deleted users are invisible unless asked for. */
  findUser(key: string, options: { includeDeleted?: boolean } = {}): UserRecord | undefined {
    const u =
      (/^\d+$/.test(key) ? this.userById(key) : undefined) ?? this.usersByEmail.get(normalizeEmail(key));
    if (!u) return undefined;
    if (u.deletionTime !== undefined && !options.includeDeleted) return undefined;
    return u;
  }

  private requireUser(key: string, includeDeleted = false): UserRecord {
    const u = this.findUser(key, { includeDeleted });
    if (!u) throw new WorkspaceError(404, `user not found: ${key}`);
    return u;
  }

  ownsEmail(email: string): boolean {
    const at = email.lastIndexOf('@');
    const domain = email.slice(at + 1).toLowerCase();
    return at > 0 && (domain === this.domain || domain.endsWith(`.${this.domain}`));
  }

  private assertEmailFree(email: string, self?: UserRecord): void {
    if (!this.ownsEmail(email)) throw new WorkspaceError(400, `${email} is not in domain ${this.domain}`);
    const holder = this.usersByEmail.get(normalizeEmail(email));
    // Users and groups share one address space.
    if ((holder && holder !== self && holder.deletionTime === undefined) || this.groups.holdsEmail(email)) {
      throw new WorkspaceError(409, `Entity already exists: ${email}`);
    }
  }

  addUser(input: NewUserInput): UserRecord {
    this.assertEmailFree(input.primaryEmail);
    for (const a of input.aliases ?? []) this.assertEmailFree(a);
    let id = generateUserId(this.rng);
    while (this.userById(id)) id = generateUserId(this.rng);
    const now = Date.now();
    const user: UserRecord = {
      id,
      primaryEmail: input.primaryEmail.toLowerCase(),
      givenName: input.givenName,
      familyName: input.familyName,
      ouId: this.requireOrgUnit(input.orgUnitPath ?? '/').orgUnitId,
      role: 'other',
      isAdmin: input.isAdmin ?? false,
      isDelegatedAdmin: input.isDelegatedAdmin ?? false,
      adminPrivileges: input.adminPrivileges,
      suspended: input.suspended ?? false,
      suspensionReason: input.suspended ? 'ADMIN' : undefined,
      suspensionTime: input.suspended ? now : undefined,
      archived: input.archived ?? false,
      archivalTime: input.archived ? now : undefined,
      isEnrolledIn2Sv: input.isEnrolledIn2Sv ?? false,
      isEnforcedIn2Sv: input.isEnforcedIn2Sv ?? false,
      changePasswordAtNextLogin: input.changePasswordAtNextLogin ?? false,
      creationTime: parseTime(input.creationTime, now),
      lastLoginTime: parseTime(input.lastLoginTime, 0),
      deletionTime: undefined,
      aliases: input.aliases?.map((a) => a.toLowerCase()),
      detailSeed: this.rng.uint32(),
      // Users created by hand start without generated extras; only what the caller gave.
      patch: Object.fromEntries(PATCHABLE_USER_DETAILS.map((k) => [k, null])) as UserDetailPatch,
    };
    this.applyDetailPatch(user, input);
    insertSorted(this.users, user, (u) => u.id);
    this.indexUser(user);
    this.touchUsers();
    this.onUserChange?.('add', user);
    return user;
  }

  private applyDetailPatch(user: UserRecord, input: Partial<Record<PatchableUserDetail, unknown>>): void {
    for (const key of PATCHABLE_USER_DETAILS) {
      if (input[key] === undefined) continue;
      user.patch = { ...user.patch, [key]: input[key] } as UserDetailPatch;
    }
  }

  updateUser(key: string, input: UserUpdateInput): UserRecord {
    const user = this.requireUser(key);
    if (
      input.primaryEmail !== undefined &&
      normalizeEmail(input.primaryEmail) !== normalizeEmail(user.primaryEmail)
    ) {
      this.assertEmailFree(input.primaryEmail, user);
      this.unindexEmails(user);
      // Google keeps the old address as an alias after a rename.
      const aliases = new Set(user.aliases ?? []);
      aliases.add(user.primaryEmail);
      aliases.delete(normalizeEmail(input.primaryEmail));
      user.aliases = [...aliases];
      user.primaryEmail = normalizeEmail(input.primaryEmail);
      this.indexUser(user);
    }
    if (input.aliases !== undefined) {
      for (const a of input.aliases) this.assertEmailFree(a, user);
      this.unindexEmails(user);
      user.aliases = input.aliases.length ? input.aliases.map(normalizeEmail) : undefined;
      this.indexUser(user);
    }
    if (input.name?.givenName !== undefined) user.givenName = input.name.givenName;
    if (input.name?.familyName !== undefined) user.familyName = input.name.familyName;
    if (input.orgUnitPath !== undefined) user.ouId = this.requireOrgUnit(input.orgUnitPath).orgUnitId;
    const madeAdmin = input.isAdmin === true && !user.isAdmin;
    if (input.isAdmin !== undefined) user.isAdmin = input.isAdmin;
    if (input.isDelegatedAdmin !== undefined) user.isDelegatedAdmin = input.isDelegatedAdmin;
    if (input.adminPrivileges !== undefined) user.adminPrivileges = input.adminPrivileges;
    if (input.isEnrolledIn2Sv !== undefined) user.isEnrolledIn2Sv = input.isEnrolledIn2Sv;
    if (input.isEnforcedIn2Sv !== undefined) user.isEnforcedIn2Sv = input.isEnforcedIn2Sv;
    if (input.changePasswordAtNextLogin !== undefined)
      user.changePasswordAtNextLogin = input.changePasswordAtNextLogin;
    if (input.lastLoginTime !== undefined) user.lastLoginTime = Date.parse(input.lastLoginTime);
    this.applyDetailPatch(user, input);
    this.touchUsers();
    this.onUserChange?.('update', user);
    if (madeAdmin) this.onUserChange?.('makeAdmin', user);
    return user;
  }

  setSuspended(key: string, suspended: boolean): UserRecord {
    const user = this.requireUser(key);
    user.suspended = suspended;
    user.suspensionReason = suspended ? 'ADMIN' : undefined;
    user.suspensionTime = suspended ? Date.now() : undefined;
    this.touchUsers();
    this.onUserChange?.('update', user);
    return user;
  }

  setArchived(key: string, archived: boolean): UserRecord {
    const user = this.requireUser(key);
    user.archived = archived;
    user.archivalTime = archived ? Date.now() : undefined;
    this.touchUsers();
    this.onUserChange?.('update', user);
    return user;
  }

  deleteUser(key: string): UserRecord {
    const user = this.requireUser(key);
    if (user.id === this.adminUserId) throw new WorkspaceError(400, 'the workspace admin cannot be deleted');
    user.deletionTime = Date.now();
    this.groups.dropMemberEverywhere(user.id);
    this.touchUsers();
    this.onUserChange?.('delete', user);
    return user;
  }

  undeleteUser(key: string, input: UndeleteUserInput = {}): UserRecord {
    const user = this.requireUser(key, true);
    if (user.deletionTime === undefined) throw new WorkspaceError(400, `user is not deleted: ${key}`);
    for (const e of [user.primaryEmail, ...(user.aliases ?? [])]) this.assertEmailFree(e, user);
    if (input.orgUnitPath !== undefined) user.ouId = this.requireOrgUnit(input.orgUnitPath).orgUnitId;
    user.deletionTime = undefined;
    this.indexUser(user);
    this.touchUsers();
    this.onUserChange?.('undelete', user);
    return user;
  }

  /**
   * Renames `count` live users spread evenly over the tenant (admin excluded), one call instead of thousands of
   * PATCHes: benchmarks use it to simulate "1 % of users changed since the last sync".
   */
  bulkRename(count: number): UserRecord[] {
    const live = this.users.filter((u) => u.deletionTime === undefined && u.id !== this.adminUserId);
    const n = Math.min(count, live.length);
    const step = live.length / Math.max(1, n);
    this.renameGeneration++;
    const renamed: UserRecord[] = [];
    for (let i = 0; i < n; i++) {
      const u = live[Math.floor(i * step)];
      if (!u) continue;
      u.familyName = `${u.familyName.replace(/ v\d+$/, '')} v${this.renameGeneration}`;
      renamed.push(u);
    }
    this.touchUsers();
    for (const u of renamed) this.onUserChange?.('update', u);
    return renamed;
  }

  userView(order: UserOrder, descending: boolean): SortedView<UserRecord> {
    if (order === 'id' && !descending) return idOrderView(this.users, (u) => u.id);
    const keyOf: Record<UserOrder, (u: UserRecord) => string> = {
      id: () => '',
      email: (u) => u.primaryEmail.toLowerCase(),
      givenName: (u) => u.givenName.toLowerCase(),
      familyName: (u) => u.familyName.toLowerCase(),
    };
    return this.view(`users:${order}:${descending}`, () =>
      buildSortedView(this.users, keyOf[order], (u) => u.id, descending),
    );
  }

  // ---------------------------------------------------------------- chromeos devices

  get chromeOsCount(): number {
    return this.chromeos.length;
  }

  findChromeOs(deviceId: string): ChromeOsRecord | undefined {
    return this.chromeosById.get(deviceId);
  }

  private requireChromeOs(deviceId: string): ChromeOsRecord {
    const d = this.findChromeOs(deviceId);
    if (!d) throw new WorkspaceError(404, `chromeos device not found: ${deviceId}`);
    return d;
  }

  addChromeOs(input: NewChromeOsInput): ChromeOsRecord {
    const deviceId = input.deviceId ?? randomUuid(this.rng);
    if (this.chromeosById.has(deviceId)) throw new WorkspaceError(409, `device already exists: ${deviceId}`);
    const now = Date.now();
    const device: ChromeOsRecord = {
      deviceId,
      serialNumber: input.serialNumber,
      status: input.status ?? 'ACTIVE',
      ouId: this.requireOrgUnit(input.orgUnitPath ?? '/').orgUnitId,
      annotatedUser: input.annotatedUser,
      annotatedAssetId: input.annotatedAssetId,
      annotatedLocation: input.annotatedLocation,
      notes: input.notes,
      model: input.model ?? 'Google Pixelbook Go',
      lastSync: parseTime(input.lastSync, now),
      firstEnrollmentTime: now,
      lastEnrollmentTime: now,
      recentUser: input.recentUser,
      detailSeed: this.rng.uint32(),
      patch: input.overrides as ChromeOsRecord['patch'],
    };
    insertSorted(this.chromeos, device, (d) => d.deviceId);
    this.chromeosById.set(deviceId, device);
    this.touchChromeOs();
    return device;
  }

  updateChromeOs(deviceId: string, input: ChromeOsUpdateInput): ChromeOsRecord {
    const d = this.requireChromeOs(deviceId);
    if (input.serialNumber !== undefined) d.serialNumber = input.serialNumber;
    if (input.status !== undefined) d.status = input.status;
    if (input.orgUnitPath !== undefined) d.ouId = this.requireOrgUnit(input.orgUnitPath).orgUnitId;
    if (input.annotatedUser !== undefined) d.annotatedUser = input.annotatedUser ?? undefined;
    if (input.annotatedAssetId !== undefined) d.annotatedAssetId = input.annotatedAssetId ?? undefined;
    if (input.annotatedLocation !== undefined) d.annotatedLocation = input.annotatedLocation ?? undefined;
    if (input.notes !== undefined) d.notes = input.notes ?? undefined;
    if (input.model !== undefined) d.model = input.model;
    if (input.lastSync !== undefined) d.lastSync = Date.parse(input.lastSync);
    if (input.recentUser !== undefined) d.recentUser = input.recentUser ?? undefined;
    if (input.overrides !== undefined)
      d.patch = { ...d.patch, ...input.overrides } as ChromeOsRecord['patch'];
    this.touchChromeOs();
    return d;
  }

  removeChromeOs(deviceId: string): void {
    const d = this.requireChromeOs(deviceId);
    removeSorted(this.chromeos, d);
    this.chromeosById.delete(deviceId);
    this.touchChromeOs();
  }

  chromeOsView(order: ChromeOsOrder, descending: boolean, keyOf: (d: ChromeOsRecord) => string) {
    if (order === 'deviceId' && !descending) return idOrderView(this.chromeos, (d) => d.deviceId);
    return this.view(`chromeos:${order}:${descending}`, () =>
      buildSortedView(this.chromeos, keyOf, (d) => d.deviceId, descending),
    );
  }

  // ---------------------------------------------------------------- mobile devices

  get mobileCount(): number {
    return this.mobile.length;
  }

  findMobile(resourceId: string): MobileRecord | undefined {
    return this.mobileById.get(resourceId);
  }

  private requireMobile(resourceId: string): MobileRecord {
    const d = this.findMobile(resourceId);
    if (!d) throw new WorkspaceError(404, `mobile device not found: ${resourceId}`);
    return d;
  }

  addMobile(input: NewMobileInput): MobileRecord {
    const generated = mobileIdentity(this.rng, input.type);
    const resourceId = input.resourceId ?? generated.resourceId;
    if (this.mobileById.has(resourceId))
      throw new WorkspaceError(409, `device already exists: ${resourceId}`);
    const now = Date.now();
    const device: MobileRecord = {
      resourceId,
      deviceId: input.deviceId ?? generated.deviceId,
      serialNumber: input.serialNumber ?? generated.serialNumber,
      type: input.type,
      status: input.status ?? 'APPROVED',
      ownerEmails: input.email.map(normalizeEmail),
      ownerNames:
        input.name ??
        input.email.map((e) => this.findUser(e)).map((u) => (u ? `${u.givenName} ${u.familyName}` : '')),
      model: input.model ?? generated.model,
      os: input.os ?? generated.os,
      firstSync: now,
      lastSync: parseTime(input.lastSync, now),
      detailSeed: this.rng.uint32(),
      patch: input.overrides as MobileRecord['patch'],
    };
    insertSorted(this.mobile, device, (d) => d.resourceId);
    this.mobileById.set(resourceId, device);
    this.touchMobile();
    return device;
  }

  updateMobile(resourceId: string, input: MobileUpdateInput): MobileRecord {
    const d = this.requireMobile(resourceId);
    if (input.email !== undefined) d.ownerEmails = input.email.map(normalizeEmail);
    if (input.name !== undefined) d.ownerNames = input.name;
    if (input.status !== undefined) d.status = input.status;
    if (input.serialNumber !== undefined) d.serialNumber = input.serialNumber;
    if (input.model !== undefined) d.model = input.model;
    if (input.os !== undefined) d.os = input.os;
    if (input.lastSync !== undefined) d.lastSync = Date.parse(input.lastSync);
    if (input.overrides !== undefined) d.patch = { ...d.patch, ...input.overrides } as MobileRecord['patch'];
    this.touchMobile();
    return d;
  }

  removeMobile(resourceId: string): void {
    const d = this.requireMobile(resourceId);
    removeSorted(this.mobile, d);
    this.mobileById.delete(resourceId);
    this.touchMobile();
  }

  mobileView(order: MobileOrder, descending: boolean, keyOf: (d: MobileRecord) => string) {
    if (order === 'resourceId' && !descending) return idOrderView(this.mobile, (d) => d.resourceId);
    return this.view(`mobile:${order}:${descending}`, () =>
      buildSortedView(this.mobile, keyOf, (d) => d.resourceId, descending),
    );
  }

  // ---------------------------------------------------------------- caches

  private view<T>(key: string, build: () => SortedView<T>): SortedView<T> {
    const cached = this.views.get(key) as SortedView<T> | undefined;
    if (cached) return cached;
    const fresh = build();
    this.views.set(key, fresh as SortedView<unknown>);
    return fresh;
  }

  private dropViews(prefix: string): void {
    for (const k of [...this.views.keys()]) if (k.startsWith(prefix)) this.views.delete(k);
  }

  private touchUsers(): void {
    this.dropViews('users:');
  }

  private touchChromeOs(): void {
    this.dropViews('chromeos:');
  }

  private touchMobile(): void {
    this.dropViews('mobile:');
  }
}
