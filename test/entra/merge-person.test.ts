import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PRECEDENCE_POLICY,
  mergePerson,
  normalizeEmail,
  precedencePolicySchema,
  type MergedPerson,
  type PrecedencePolicy,
  type SourcePerson,
} from '../../functions/src/people/index.js';

const T1 = '2025-03-01T08:00:00.000Z';
const T2 = '2025-03-02T08:00:00.000Z';
const T3 = '2025-03-03T08:00:00.000Z';
const T4 = '2025-03-04T08:00:00.000Z';

function google(email: string, fields: Record<string, unknown>, active = true): SourcePerson {
  return { source: 'google', sourceId: 'g-1', email, fields: { ...fields, active }, active };
}

function entra(email: string, fields: Record<string, unknown>, active = true): SourcePerson {
  return { source: 'entra', sourceId: 'e-1', email, fields: { ...fields, active }, active };
}

const policy = DEFAULT_PRECEDENCE_POLICY;

function both(g: SourcePerson, e: SourcePerson, p: PrecedencePolicy = policy): MergedPerson {
  const first = mergePerson(null, { source: 'google', person: g, at: T1 }, p);
  return mergePerson(first, { source: 'entra', person: e, at: T2 }, p);
}

describe('normalizeEmail', () => {
  it('trims and lower-cases, nothing more', () => {
    expect(normalizeEmail('  Alice.Smith@School.EDU \n')).toBe('alice.smith@school.edu');
    expect(normalizeEmail('first.last+tag@gmail.com')).toBe('first.last+tag@gmail.com');
  });

  it('joins composed and decomposed Unicode forms', () => {
    expect(normalizeEmail('Zoe\u0308@x.example')).toBe(normalizeEmail('Zo\u00eb@x.example'));
  });
});

describe('mergePerson', () => {
  it('merges two sources on the normalized email, Entra overwriting Google by default', () => {
    const merged = both(
      google('Alice.Smith@School.edu', {
        givenName: 'Alice',
        familyName: 'Smith',
        department: 'Maths',
        orgUnit: '/Staff',
      }),
      entra(' alice.smith@school.EDU ', {
        givenName: 'Alicia',
        familyName: 'Smith',
        department: 'Mathematics',
        jobTitle: 'Teacher',
      }),
    );
    expect(merged.email).toBe('alice.smith@school.edu');
    expect(merged.fields).toEqual({
      active: true,
      department: 'Mathematics',
      familyName: 'Smith',
      givenName: 'Alicia',
      jobTitle: 'Teacher',
      orgUnit: '/Staff',
    });
    expect(merged.provenance).toEqual({
      active: 'entra',
      department: 'entra',
      familyName: 'entra',
      givenName: 'entra',
      jobTitle: 'entra',
      orgUnit: 'google',
    });
    expect(merged.status).toBe('active');
    expect(Object.keys(merged.sources).sort()).toEqual(['entra', 'google']);
  });

  it('keeps both conflicting names under sources and resolves the merged one by precedence', () => {
    const g = google('kim@x.example', { givenName: 'Kimberly', fullName: 'Kimberly Lee' });
    const e = entra('kim@x.example', { givenName: 'Kim', fullName: 'Kim Lee' });
    const merged = both(g, e);
    expect(merged.fields.givenName).toBe('Kim');
    expect(merged.sources.google?.fields.givenName).toBe('Kimberly');
    expect(merged.sources.entra?.fields.givenName).toBe('Kim');

    const googleWins = both(g, e, { default: ['entra', 'google'] });
    expect(googleWins.fields.fullName).toBe('Kimberly Lee');
    expect(googleWins.provenance.fullName).toBe('google');
  });

  it('applies a per-field precedence override', () => {
    const p: PrecedencePolicy = {
      default: ['google', 'entra'],
      perField: { department: ['entra', 'google'] },
    };
    const merged = both(
      google('a@x.example', { department: 'Science', givenName: 'Ann' }),
      entra('a@x.example', { department: 'R&D', givenName: 'Anne' }),
      p,
    );
    expect(merged.fields).toMatchObject({ department: 'Science', givenName: 'Anne' });
    expect(merged.provenance).toMatchObject({ department: 'google', givenName: 'entra' });
  });

  it('lets a per-field list exclude a source entirely', () => {
    const merged = both(
      google('a@x.example', { employeeId: 'G-1' }),
      entra('a@x.example', { employeeId: null }),
      { default: ['google', 'entra'], perField: { employeeId: ['entra'] } },
    );
    expect(merged.fields).not.toHaveProperty('employeeId');
  });

  it('falls back to a lower source when the winner has no value (null, blank, empty list)', () => {
    const merged = both(
      google('a@x.example', { department: 'Arts', jobTitle: 'Teacher', phones: ['+1 555'] }),
      entra('a@x.example', { department: null, jobTitle: '   ', phones: [] }),
    );
    expect(merged.fields).toMatchObject({ department: 'Arts', jobTitle: 'Teacher', phones: ['+1 555'] });
    expect(merged.provenance).toMatchObject({ department: 'google', jobTitle: 'google', phones: 'google' });
  });

  it('keeps false and 0 as real values', () => {
    const merged = both(
      google('a@x.example', { isAdmin: true, grade: 5 }),
      entra('a@x.example', { isAdmin: false, grade: 0 }),
    );
    expect(merged.fields).toMatchObject({ isAdmin: false, grade: 0 });
  });

  it('handles a person known to one source only', () => {
    const merged = mergePerson(
      null,
      { source: 'entra', person: entra('Only@Entra.example', { givenName: 'Eve' }), at: T1 },
      policy,
    );
    expect(merged).toEqual({
      email: 'only@entra.example',
      fields: { active: true, givenName: 'Eve' },
      provenance: { active: 'entra', givenName: 'entra' },
      sources: {
        entra: { sourceId: 'e-1', fields: { givenName: 'Eve', active: true }, active: true, lastSeenAt: T1 },
      },
      status: 'active',
    });
  });

  it('is active while any source has the person active, inactive only when disabled everywhere', () => {
    const suspendedInGoogle = both(google('a@x.example', {}, false), entra('a@x.example', {}, true));
    expect(suspendedInGoogle.status).toBe('active');
    expect(suspendedInGoogle.fields.active).toBe(true);
    expect(suspendedInGoogle.provenance.active).toBe('entra');

    const disabledInEntra = both(google('a@x.example', {}, true), entra('a@x.example', {}, false));
    expect(disabledInEntra.status).toBe('active');
    expect(disabledInEntra.provenance.active).toBe('google');

    const disabledEverywhere = both(google('a@x.example', {}, false), entra('a@x.example', {}, false));
    expect(disabledEverywhere.status).toBe('inactive');
    expect(disabledEverywhere.fields.active).toBe(false);
  });

  it('removal from one source keeps the person and recomputes fields from the rest', () => {
    const merged = both(
      google('a@x.example', { givenName: 'Ann', orgUnit: '/Staff' }, false),
      entra('a@x.example', { givenName: 'Anne', jobTitle: 'Teacher' }, true),
    );
    const afterEntraGone = mergePerson(merged, { source: 'entra', person: null, at: T3 }, policy);
    expect(afterEntraGone.status).toBe('inactive');
    expect(afterEntraGone.fields).toEqual({ active: false, givenName: 'Ann', orgUnit: '/Staff' });
    expect(afterEntraGone.provenance).toEqual({ active: 'google', givenName: 'google', orgUnit: 'google' });
    expect(afterEntraGone.sources.entra).toMatchObject({ removedAt: T3, fields: { jobTitle: 'Teacher' } });

    const afterBothGone = mergePerson(afterEntraGone, { source: 'google', person: null, at: T4 }, policy);
    expect(afterBothGone.status).toBe('removed');
    expect(afterBothGone.fields).toEqual({ active: false, givenName: 'Ann', orgUnit: '/Staff' });
    expect(afterBothGone.sources.google?.removedAt).toBe(T4);
    expect(afterBothGone.sources.entra?.removedAt).toBe(T3);
  });

  it('brings a removed person back when a source sees them again', () => {
    const gone = mergePerson(
      mergePerson(
        null,
        { source: 'google', person: google('a@x.example', { givenName: 'Ann' }), at: T1 },
        policy,
      ),
      { source: 'google', person: null, at: T2 },
      policy,
    );
    expect(gone.status).toBe('removed');
    const back = mergePerson(
      gone,
      { source: 'entra', person: entra('a@x.example', { givenName: 'Anne' }), at: T3 },
      policy,
    );
    expect(back.status).toBe('active');
    expect(back.fields.givenName).toBe('Anne');
    expect(back.sources.google?.removedAt).toBe(T2);
  });

  it('ignores repeated removals and removals from a source that never had the person', () => {
    const merged = mergePerson(null, { source: 'google', person: google('a@x.example', {}), at: T1 }, policy);
    expect(mergePerson(merged, { source: 'entra', person: null, at: T2 }, policy)).toBe(merged);
    const removed = mergePerson(merged, { source: 'google', person: null, at: T2 }, policy);
    expect(mergePerson(removed, { source: 'google', person: null, at: T3 }, policy)).toBe(removed);
  });

  it('ignores observations older than what a source already said', () => {
    const fresh = mergePerson(
      null,
      { source: 'entra', person: entra('a@x.example', { jobTitle: 'New' }), at: T2 },
      policy,
    );
    const stale = mergePerson(
      fresh,
      { source: 'entra', person: entra('a@x.example', { jobTitle: 'Old' }), at: T1 },
      policy,
    );
    expect(stale).toBe(fresh);
    expect(mergePerson(fresh, { source: 'entra', person: null, at: T1 }, policy)).toBe(fresh);
  });

  it('does not mutate its input', () => {
    const merged = mergePerson(
      null,
      { source: 'google', person: google('a@x.example', { givenName: 'Ann' }), at: T1 },
      policy,
    );
    const snapshot = structuredClone(merged);
    mergePerson(
      merged,
      { source: 'entra', person: entra('a@x.example', { givenName: 'Anne' }), at: T2 },
      policy,
    );
    mergePerson(merged, { source: 'google', person: null, at: T2 }, policy);
    expect(merged).toEqual(snapshot);
  });

  it('rejects updates routed to the wrong person or without an address', () => {
    const merged = mergePerson(null, { source: 'google', person: google('a@x.example', {}), at: T1 }, policy);
    expect(() =>
      mergePerson(merged, { source: 'entra', person: entra('b@x.example', {}), at: T2 }, policy),
    ).toThrow(/routed/);
    expect(() => mergePerson(null, { source: 'entra', person: entra('  ', {}), at: T2 }, policy)).toThrow(
      /no usable email/,
    );
    expect(() => mergePerson(null, { source: 'entra', person: null, at: T2 }, policy)).toThrow(/existing/);
    expect(() =>
      mergePerson(null, { source: 'entra', person: google('a@x.example', {}), at: T1 }, policy),
    ).toThrow();
    expect(() =>
      mergePerson(null, { source: 'google', person: google('a@x.example', {}), at: 'yesterday' }, policy),
    ).toThrow(/ISO-8601/);
  });
});

describe('precedencePolicySchema', () => {
  it('accepts the default and per-field overrides', () => {
    expect(precedencePolicySchema.parse({ default: ['google', 'entra'] })).toEqual(DEFAULT_PRECEDENCE_POLICY);
    expect(
      precedencePolicySchema.parse({
        default: ['google', 'entra'],
        perField: { department: ['entra', 'google'] },
      }),
    ).toEqual({ default: ['google', 'entra'], perField: { department: ['entra', 'google'] } });
  });

  it.each<[unknown, string]>([
    [{ default: [] }, 'empty order'],
    [{ default: ['google', 'google'] }, 'duplicate source'],
    [{ default: ['google', 'okta'] }, 'unknown source'],
    [{ default: ['google'], perField: { active: ['entra'] } }, 'reserved field'],
    [{ default: ['google'], perField: { 'bad name': ['entra'] } }, 'invalid field name'],
    [{ default: ['google'], extra: true }, 'unknown key'],
  ])('rejects %j (%s)', (input: unknown) => {
    expect(precedencePolicySchema.safeParse(input).success).toBe(false);
  });
});
