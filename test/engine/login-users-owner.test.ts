import { describe, expect, it } from 'vitest';
import {
  loginScopeMatchDepth,
  loginUsersConflict,
  loginUsersOwner,
  type LoginUsersCandidate,
} from '../../shared/mapping.js';

const mapping = (
  id: string,
  paths: string[] | null,
  o: { includeChildren?: boolean; createdAt?: string; enabled?: boolean } = {},
): LoginUsersCandidate & { name: string; identifier: string } => ({
  id,
  name: id,
  identifier: 'primaryEmail',
  createdAt: o.createdAt ?? '2026-01-01T00:00:00.000Z',
  enabled: o.enabled ?? true,
  target: { kind: 'loginUsers', role: `role-${id}` },
  orgUnitScope: paths ? { paths, includeChildren: o.includeChildren ?? true } : null,
});

describe('which login-users mapping a user belongs to (the most specific org unit)', () => {
  const everyone = mapping('everyone', null);
  const staff = mapping('staff', ['/Staff']);
  const teachers = mapping('teachers', ['/Staff/Teachers', '/Schools/Lincoln High/Teachers']);
  const all = [everyone, staff, teachers];

  it('takes the deepest matching scope path', () => {
    expect(loginUsersOwner(all, '/Staff/Teachers/Math')?.id).toBe('teachers');
    expect(loginUsersOwner(all, '/Staff/Teachers')?.id).toBe('teachers');
    expect(loginUsersOwner(all, '/Schools/Lincoln High/Teachers')?.id).toBe('teachers');
    expect(loginUsersOwner(all, '/Staff/IT')?.id).toBe('staff');
    expect(loginUsersOwner(all, '/Staff')?.id).toBe('staff');
    // A sibling whose name starts like a scope is not below it.
    expect(loginUsersOwner(all, '/Staffing')?.id).toBe('everyone');
    expect(loginUsersOwner(all, '/Contractors')?.id).toBe('everyone');
    expect(loginUsersOwner(all, '/')?.id).toBe('everyone');
  });

  it('gives nobody a mapping when no scope takes the user in', () => {
    expect(loginUsersOwner([staff, teachers], '/Contractors')).toBeNull();
    expect(loginUsersOwner([staff, teachers], undefined)).toBeNull();
    expect(loginUsersOwner([], '/Staff')).toBeNull();
  });

  it('follows the user when they move between org units', () => {
    const moves = ['/Staff/IT', '/Staff/Teachers/Art', '/Contractors', '/Staff'];
    expect(moves.map((p) => loginUsersOwner([staff, teachers], p)?.id ?? null)).toEqual([
      'staff',
      'teachers',
      null,
      'staff',
    ]);
  });

  it('ignores disabled mappings and non-login mappings', () => {
    const off = mapping('off', ['/Staff/Teachers'], { enabled: false });
    expect(loginUsersOwner([staff, off], '/Staff/Teachers')?.id).toBe('staff');
    const collection = { ...teachers, id: 'records', target: { kind: 'people' as const } };
    expect(loginUsersOwner([staff, collection], '/Staff/Teachers')?.id).toBe('staff');
  });

  it('a scope without children takes in only its own org unit', () => {
    const only = mapping('only', ['/Staff/Teachers'], { includeChildren: false });
    expect(loginUsersOwner([staff, only], '/Staff/Teachers')?.id).toBe('only');
    expect(loginUsersOwner([staff, only], '/Staff/Teachers/Math')?.id).toBe('staff');
    expect(loginScopeMatchDepth(only, '/Staff/Teachers/Math')).toBeNull();
    expect(loginScopeMatchDepth(mapping('slash', ['/Staff/']), '/Staff/IT')).toBe(1);
  });

  it('breaks a tie (only stored data can have one) by the mapping created first, then the smaller id', () => {
    const older = mapping('b-older', ['/Staff'], { createdAt: '2025-01-01T00:00:00.000Z' });
    const newer = mapping('a-newer', ['/Staff'], { createdAt: '2026-06-01T00:00:00.000Z' });
    expect(loginUsersOwner([newer, older], '/Staff')?.id).toBe('b-older');
    expect(loginUsersOwner([older, newer], '/Staff')?.id).toBe('b-older');
    const twin = mapping('a-twin', ['/Staff'], { createdAt: older.createdAt });
    expect(loginUsersOwner([older, twin], '/Staff')?.id).toBe('a-twin');
  });
});

describe('conflicts between login-users mappings', () => {
  const staff = mapping('staff', ['/Staff']);
  it('refuses a second mapping for an org unit another one claims, naming it and the unit', () => {
    const c = loginUsersConflict(mapping('new', ['/Schools', '/Staff/']), [staff]);
    expect(c).toMatchObject({ with: { id: 'staff', name: 'staff' }, path: 'orgUnitScope.paths.1' });
    expect(c!.message).toMatch(
      /"staff" already gives login users in the org unit \/Staff the role "role-staff"/,
    );
  });
  it('refuses two mappings without a scope (or one without and one on /)', () => {
    expect(loginUsersConflict(mapping('a', null), [mapping('b', null)])?.path).toBe('orgUnitScope');
    expect(loginUsersConflict(mapping('a', ['/']), [mapping('b', null)])?.path).toBe('orgUnitScope.paths.0');
  });
  it('refuses login users keyed by another identifier', () => {
    const byId = { ...mapping('by-id', ['/Schools']), identifier: 'id' };
    expect(loginUsersConflict(byId, [staff])).toMatchObject({ path: 'identifier' });
  });
  it('allows nested and separate org units, and mappings of other targets', () => {
    expect(loginUsersConflict(mapping('t', ['/Staff/Teachers']), [staff, mapping('all', null)])).toBeNull();
    const collection = { ...staff, target: { kind: 'collection' as const, objectId: 'staff' } };
    expect(loginUsersConflict(mapping('s', ['/Staff']), [collection])).toBeNull();
  });
});
