import { describe, expect, it } from 'vitest';
import { mapGraphUser, type GraphUser } from '../../functions/src/sources/entra/index.js';

const base: GraphUser = {
  id: '6e1f0c1c-1b0e-4c38-9d8e-3f1b2b8b9a01',
  displayName: 'Zoë García',
  givenName: 'Zoë',
  surname: 'García',
  mail: 'Zoe.Garcia@School.example',
  userPrincipalName: 'zoe.garcia@school.example',
  jobTitle: 'Teacher',
  department: 'Languages',
  mobilePhone: null,
  businessPhones: ['+1 555 0100 0001'],
  employeeId: 'E123',
  accountEnabled: true,
  userType: 'Member',
};

describe('mapGraphUser', () => {
  it('maps a member, normalizing mail and naming fields the way people merge expects', () => {
    expect(mapGraphUser(base)).toEqual({
      kind: 'person',
      person: {
        source: 'entra',
        sourceId: base.id,
        email: 'zoe.garcia@school.example',
        active: true,
        fields: {
          givenName: 'Zoë',
          familyName: 'García',
          fullName: 'Zoë García',
          jobTitle: 'Teacher',
          department: 'Languages',
          phone: '+1 555 0100 0001',
          employeeId: 'E123',
          active: true,
        },
      },
    });
  });

  it('falls back to the userPrincipalName when mail is null, blank or never set', () => {
    for (const mail of [null, '  ', undefined]) {
      const mapped = mapGraphUser({ ...base, mail, userPrincipalName: ' Zoe.Garcia@School.example ' });
      expect(mapped.kind === 'person' && mapped.person.email).toBe('zoe.garcia@school.example');
    }
  });

  it('skips guests without mail but keeps guests whose mail is their real address', () => {
    const guest = {
      ...base,
      userType: 'Guest',
      userPrincipalName: 'zoe_gmail.com#EXT#@school.onmicrosoft.com',
    };
    expect(mapGraphUser({ ...guest, mail: null })).toEqual({
      kind: 'skipped',
      sourceId: base.id,
      reason: 'guest-without-mail',
    });
    // Even without userType selected, the #EXT# UPN gives a guest away.
    expect(mapGraphUser({ ...guest, userType: undefined, mail: null }).kind).toBe('skipped');
    const kept = mapGraphUser({ ...guest, mail: 'Zoe@Gmail.com' });
    expect(kept.kind === 'person' && kept.person.email).toBe('zoe@gmail.com');
  });

  it('skips users without any usable address', () => {
    expect(mapGraphUser({ id: 'x', mail: null, userPrincipalName: null })).toMatchObject({
      reason: 'no-address',
    });
    expect(mapGraphUser({ id: 'x', mail: 'not-an-address' })).toMatchObject({ reason: 'invalid-address' });
  });

  it('maps disabled accounts as inactive and prefers the mobile phone', () => {
    const mapped = mapGraphUser({ ...base, accountEnabled: false, mobilePhone: '+1 555 0199 9999' });
    expect(mapped.kind === 'person' && mapped.person).toMatchObject({
      active: false,
      fields: { active: false, phone: '+1 555 0199 9999' },
    });
  });

  it('turns omitted and blank properties into null so they never win a merge', () => {
    const mapped = mapGraphUser({
      id: 'y',
      userPrincipalName: 'min@school.example',
      accountEnabled: true,
      jobTitle: ' ',
    });
    expect(mapped.kind === 'person' && mapped.person.fields).toEqual({
      givenName: null,
      familyName: null,
      fullName: null,
      jobTitle: null,
      department: null,
      phone: null,
      employeeId: null,
      active: true,
    });
  });
});
