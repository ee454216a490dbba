import type {
  GroupUpdateInput,
  MemberUpdateInput,
  NewGroupInput,
  NewMemberInput,
} from './control-schemas.js';
import type { GroupRecord, MemberRecord, UserRecord } from './model.js';
import type { SortedView } from './paging.js';
import { buildSortedView, idOrderView, insertSorted, removeSorted } from './paging.js';
import type { Rng } from './prng.js';
import { randomAlnum, randomDigits } from './prng.js';
import { WorkspaceError } from './workspace-error.js';

/** Google group ids are 15 lowercase alphanumerics starting with 0, e.g. `01ljm1pz3lxq8tb`. */
export const generateGroupId = (rng: Rng) => `0${randomAlnum(rng, 14)}`;
/** Outside accounts get an ordinary 21-digit Google account id. */
export const generateExternalMemberId = (rng: Rng) => `1${randomDigits(rng, 20)}`;

const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** What the group store needs from the rest of its workspace. */
export interface GroupStoreHost {
  readonly customerId: string;
  readonly rng: Rng;
  ownsEmail(email: string): boolean;
  findUser(key: string): UserRecord | undefined;
  /** True when a live user holds the address (groups and users share one address space). */
  userHoldsEmail(email: string): boolean;
}

/**
 * A workspace's groups and their direct memberships. Groups are kept sorted by id; the email ordering is a
 * cached view dropped on every change. Members reference users and groups by id, so renames and deletions of
 * the referenced record are reflected without touching the member lists.
 */
export class GroupStore {
  private readonly groups: GroupRecord[];
  private readonly byId = new Map<string, GroupRecord>();
  private readonly byEmail = new Map<string, GroupRecord>();
  private emailViews = new Map<boolean, SortedView<GroupRecord>>();

  constructor(
    groups: GroupRecord[],
    private readonly host: GroupStoreHost,
  ) {
    this.groups = [...groups].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const g of this.groups) this.index(g);
  }

  get count(): number {
    return this.groups.length;
  }

  /** By id, email or alias (case-insensitive), as `groupKey` is documented. */
  find(key: string): GroupRecord | undefined {
    return this.byId.get(key.trim().toLowerCase()) ?? this.byEmail.get(normalizeEmail(key));
  }

  holdsEmail(email: string): boolean {
    return this.byEmail.has(normalizeEmail(email));
  }

  view(orderByEmail: boolean, descending: boolean): SortedView<GroupRecord> {
    if (!orderByEmail) return idOrderView(this.groups, (g) => g.id);
    let view = this.emailViews.get(descending);
    if (!view) {
      view = buildSortedView(
        this.groups,
        (g) => g.email,
        (g) => g.id,
        descending,
      );
      this.emailViews.set(descending, view);
    }
    return view;
  }

  memberView(group: GroupRecord): SortedView<MemberRecord> {
    return idOrderView(group.members, (m) => m.id);
  }

  /** Groups the user or group is a direct member of (groups.list with userKey). */
  groupsContaining(memberId: string): Set<string> {
    const out = new Set<string>();
    for (const g of this.groups) if (g.members.some((m) => m.id === memberId)) out.add(g.id);
    return out;
  }

  add(input: NewGroupInput): GroupRecord {
    for (const e of [input.email, ...(input.aliases ?? [])]) this.assertEmailFree(e);
    let id = generateGroupId(this.host.rng);
    while (this.byId.has(id)) id = generateGroupId(this.host.rng);
    const group: GroupRecord = {
      id,
      email: normalizeEmail(input.email),
      name: input.name ?? input.email.slice(0, input.email.indexOf('@')),
      description: input.description ?? '',
      adminCreated: input.adminCreated ?? true,
      aliases: input.aliases?.length ? input.aliases.map(normalizeEmail) : undefined,
      members: [],
    };
    insertSorted(this.groups, group, (g) => g.id);
    this.index(group);
    this.touch();
    return group;
  }

  update(key: string, input: GroupUpdateInput): GroupRecord {
    const group = this.require(key);
    const emails = [input.email ?? group.email, ...(input.aliases ?? group.aliases ?? [])];
    for (const e of emails) this.assertEmailFree(e, group);
    this.unindex(group);
    if (input.email !== undefined && normalizeEmail(input.email) !== group.email) {
      // As with users, the previous address keeps working as an alias after a rename.
      const aliases = new Set(input.aliases?.map(normalizeEmail) ?? group.aliases ?? []);
      aliases.add(group.email);
      aliases.delete(normalizeEmail(input.email));
      group.aliases = [...aliases];
      group.email = normalizeEmail(input.email);
    } else if (input.aliases !== undefined) {
      group.aliases = input.aliases.length ? input.aliases.map(normalizeEmail) : undefined;
    }
    if (input.name !== undefined) group.name = input.name;
    if (input.description !== undefined) group.description = input.description;
    this.index(group);
    this.touch();
    return group;
  }

  /** Deleting a group also drops it from every group it was a member of. */
  remove(key: string): GroupRecord {
    const group = this.require(key);
    this.unindex(group);
    removeSorted(this.groups, group);
    this.byId.delete(group.id);
    this.dropMemberEverywhere(group.id);
    this.touch();
    return group;
  }

  addMember(groupKey: string, input: NewMemberInput): MemberRecord {
    const group = this.require(groupKey);
    const member = this.resolveNewMember(group, input);
    if (group.members.some((m) => m.id === member.id)) {
      throw new WorkspaceError(409, `Member already exists: ${input.email ?? input.id ?? member.id}`);
    }
    insertSorted(group.members, member, (m) => m.id);
    return member;
  }

  updateMember(groupKey: string, memberKey: string, input: MemberUpdateInput): MemberRecord {
    const member = this.requireMember(this.require(groupKey), memberKey);
    member.role = input.role;
    return member;
  }

  removeMember(groupKey: string, memberKey: string): MemberRecord {
    const group = this.require(groupKey);
    const member = this.requireMember(group, memberKey);
    removeSorted(group.members, member);
    return member;
  }

  /** Google drops a deleted user's (or group's) memberships; restoring the user does not bring them back. */
  dropMemberEverywhere(memberId: string): void {
    for (const g of this.groups) {
      const m = g.members.find((x) => x.id === memberId);
      if (m) removeSorted(g.members, m);
    }
  }

  private resolveNewMember(group: GroupRecord, input: NewMemberInput): MemberRecord {
    const role = input.role ?? 'MEMBER';
    if (input.type === 'CUSTOMER')
      return { id: this.host.customerId, type: 'CUSTOMER', role, email: undefined };
    const key = input.email ?? input.id ?? '';
    const user = this.host.findUser(key);
    if (user) return { id: user.id, type: 'USER', role, email: undefined };
    const child = this.find(key);
    if (child) {
      if (child === group || this.reaches(child, group.id)) {
        throw new WorkspaceError(
          400,
          `adding ${child.email} to ${group.email} would create a membership cycle`,
        );
      }
      return { id: child.id, type: 'GROUP', role, email: undefined };
    }
    if (!input.email || this.host.ownsEmail(input.email)) {
      throw new WorkspaceError(404, `no user or group ${key} in this workspace`);
    }
    return {
      id: generateExternalMemberId(this.host.rng),
      type: 'EXTERNAL',
      role,
      email: normalizeEmail(input.email),
    };
  }

  /** Whether `targetId` is `from` or nested somewhere below it. */
  private reaches(from: GroupRecord, targetId: string, seen = new Set<string>()): boolean {
    if (from.id === targetId) return true;
    seen.add(from.id);
    for (const m of from.members) {
      if (m.type !== 'GROUP' || seen.has(m.id)) continue;
      const next = this.byId.get(m.id);
      if (next && this.reaches(next, targetId, seen)) return true;
    }
    return false;
  }

  /** `memberKey` is the member's id or (for users, groups and outsiders) its current email. */
  private requireMember(group: GroupRecord, memberKey: string): MemberRecord {
    const wanted = this.host.findUser(memberKey)?.id ?? this.find(memberKey)?.id ?? memberKey;
    const email = normalizeEmail(memberKey);
    const member = group.members.find((m) => m.id === wanted || m.email === email);
    if (!member) throw new WorkspaceError(404, `${memberKey} is not a member of ${group.email}`);
    return member;
  }

  private require(key: string): GroupRecord {
    const g = this.find(key);
    if (!g) throw new WorkspaceError(404, `group not found: ${key}`);
    return g;
  }

  private assertEmailFree(email: string, self?: GroupRecord): void {
    if (!this.host.ownsEmail(email))
      throw new WorkspaceError(400, `${email} is not in the workspace's domain`);
    const holder = this.byEmail.get(normalizeEmail(email));
    if ((holder && holder !== self) || this.host.userHoldsEmail(email)) {
      throw new WorkspaceError(409, `Entity already exists: ${email}`);
    }
  }

  private index(g: GroupRecord): void {
    this.byId.set(g.id, g);
    for (const e of [g.email, ...(g.aliases ?? [])]) this.byEmail.set(normalizeEmail(e), g);
  }

  private unindex(g: GroupRecord): void {
    for (const e of [g.email, ...(g.aliases ?? [])]) {
      if (this.byEmail.get(normalizeEmail(e)) === g) this.byEmail.delete(normalizeEmail(e));
    }
  }

  private touch(): void {
    this.emailViews = new Map();
  }
}
