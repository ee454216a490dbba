import { generateExternalMemberId, generateGroupId } from './group-store.js';
import type { GroupRecord, MemberRecord, MemberRole, UserRecord } from './model.js';
import type { Rng } from './prng.js';
import { hash32, mulberry32 } from './prng.js';

/** About one group per ten users, never fewer than a handful so every shape (nested, empty, ...) exists. */
export function defaultGroupCount(users: number): number {
  return Math.max(5, Math.round(users / 10));
}

const GROUP_NAMES: readonly string[] = [
  'Teachers',
  'Science Department',
  'Math Department',
  'English Department',
  'Counselors',
  'Front Office',
  'IT Helpdesk',
  'Robotics Club',
  'Drama Club',
  'Chess Club',
  'Student Council',
  'Parent Liaisons',
  'Bus Drivers',
  'Coaches',
  'Library',
  'Nurses',
  'Substitutes',
  'Yearbook',
  'Band',
  'Safety Committee',
];

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

function role(rng: Rng): MemberRole {
  const roll = rng.next();
  return roll < 0.05 ? 'OWNER' : roll < 0.12 ? 'MANAGER' : 'MEMBER';
}

/** Distinct random picks without shuffling the whole (possibly 200k-long) user list. */
function sample<T>(rng: Rng, items: readonly T[], n: number): T[] {
  const want = Math.min(n, items.length);
  const picked = new Set<number>();
  while (picked.size < want) picked.add(rng.int(items.length));
  return [...picked].map((i) => items[i] as T);
}

/**
 * Deterministic groups drawn from the seeded users. Uses its own random stream (derived from the seed), so
 * adding groups did not change any user or device a given seed already produced. Shapes every tenant has:
 * a large staff list owned by the admin, one group with no members (Google then omits `members`), nested
 * groups (member type GROUP, always an earlier group, so there are no cycles), an outside address (EXTERNAL)
 * and a whole-customer member (CUSTOMER, "all users in the domain").
 */
export function generateGroups(
  seed: number,
  count: number,
  domain: string,
  customerId: string,
  users: readonly UserRecord[],
  admin: UserRecord,
): GroupRecord[] {
  const rng = mulberry32(hash32('groups', seed));
  const groups: GroupRecord[] = [];
  const usedEmails = new Set<string>();
  const staff = users.filter((u) => u.role === 'staff');
  const pool = staff.length > 0 ? staff : users;
  for (let i = 0; i < count; i++) {
    let name: string;
    if (i === 0) name = 'All Staff';
    else if (i === 1) name = 'Future Planning Committee';
    else {
      const base = GROUP_NAMES[(i - 2) % GROUP_NAMES.length] ?? 'Team';
      const round = Math.floor((i - 2) / GROUP_NAMES.length);
      name = round === 0 ? base : `${base} ${round + 1}`;
    }
    let email = `${slug(name)}@${domain}`;
    for (let n = 2; usedEmails.has(email); n++) email = `${slug(name)}-${n}@${domain}`;
    usedEmails.add(email);
    const group: GroupRecord = {
      id: generateGroupId(rng),
      email,
      name,
      description: rng.chance(0.6) ? `${name} (${domain})` : '',
      adminCreated: !rng.chance(0.1),
      aliases: rng.chance(0.05) ? [`${slug(name)}-list@${domain}`] : undefined,
      members: [],
    };
    if (group.aliases?.some((a) => usedEmails.has(a))) group.aliases = undefined;
    for (const a of group.aliases ?? []) usedEmails.add(a);

    const members = new Map<string, MemberRecord>();
    const add = (m: MemberRecord) => {
      if (!members.has(m.id)) members.set(m.id, m);
    };
    if (i === 0) {
      add({ id: admin.id, type: 'USER', role: 'OWNER', email: undefined });
      for (const u of sample(rng, pool, 250))
        add({ id: u.id, type: 'USER', role: 'MEMBER', email: undefined });
    } else if (i !== 1) {
      const picked = sample(rng, users, 2 + rng.int(24));
      picked.forEach((u, k) =>
        add({ id: u.id, type: 'USER', role: k === 0 ? 'OWNER' : role(rng), email: undefined }),
      );
      const earlier = groups[2 + rng.int(Math.max(1, i - 2))];
      if (i >= 3 && earlier && (i === 3 || rng.chance(0.1))) {
        add({ id: earlier.id, type: 'GROUP', role: 'MEMBER', email: undefined });
      }
      if (i === 2 || rng.chance(0.03)) {
        add({
          id: generateExternalMemberId(rng),
          type: 'EXTERNAL',
          role: 'MEMBER',
          email: `partner${i}@vendor.example.net`,
        });
      }
      if (i === 4) add({ id: customerId, type: 'CUSTOMER', role: 'MEMBER', email: undefined });
    }
    group.members = [...members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    groups.push(group);
  }
  return groups;
}
