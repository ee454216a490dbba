import { normalizeEmail } from '../../people/normalize-email.js';
import type { SourcePerson } from '../../people/source-person.js';
import type { GraphUser } from './graph-schemas.js';

/** What the mapping reads; request exactly these so delta responses carry everything a person needs. */
export const ENTRA_USER_SELECT = [
  'id',
  'displayName',
  'givenName',
  'surname',
  'mail',
  'userPrincipalName',
  'jobTitle',
  'department',
  'mobilePhone',
  'businessPhones',
  'employeeId',
  'accountEnabled',
  'userType',
] as const;

export type SkipReason = 'guest-without-mail' | 'no-address' | 'invalid-address';

export type MappedGraphUser =
  { kind: 'person'; person: SourcePerson } | { kind: 'skipped'; sourceId: string; reason: SkipReason };

const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const text = (value: string | null | undefined): string | null => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
};

export function isGuest(user: GraphUser): boolean {
  return user.userType === 'Guest' || (user.userPrincipalName ?? '').includes('#EXT#');
}

/**
 * Graph user -> source person keyed by `mail`, falling back to the UPN (mail is null for unlicensed and
 * cloud-only accounts that never got a mailbox). A guest's UPN (`x_gmail.com#EXT#@tenant`) is not an address
 * anyone uses, so guests take part only when mail holds their real address.
 */
export function mapGraphUser(user: GraphUser): MappedGraphUser {
  const mail = text(user.mail);
  if (isGuest(user) && !mail) return { kind: 'skipped', sourceId: user.id, reason: 'guest-without-mail' };
  const address = mail ?? text(user.userPrincipalName);
  if (!address) return { kind: 'skipped', sourceId: user.id, reason: 'no-address' };
  const email = normalizeEmail(address);
  if (!ADDRESS.test(email)) return { kind: 'skipped', sourceId: user.id, reason: 'invalid-address' };

  // accountEnabled is only absent when not selected; treating that as enabled avoids mass-deactivating people.
  const active = user.accountEnabled ?? true;
  return {
    kind: 'person',
    person: {
      source: 'entra',
      sourceId: user.id,
      email,
      active,
      fields: {
        givenName: text(user.givenName),
        familyName: text(user.surname),
        fullName: text(user.displayName),
        jobTitle: text(user.jobTitle),
        department: text(user.department),
        phone: text(user.mobilePhone) ?? text(user.businessPhones?.[0]),
        employeeId: text(user.employeeId),
        active,
      },
    },
  };
}
