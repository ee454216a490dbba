import type { DirectoryUser } from './directory-user.js';
import {
  DEPARTMENTS,
  GIVEN_NAMES,
  GUEST_DOMAINS,
  JOB_TITLES,
  LANGUAGES,
  NON_LATIN_NAMES,
  OFFICES,
  SURNAMES,
} from './name-pools.js';
import { randomDigits, randomGuid, type Rng } from './seeded-random.js';

const EPOCH_2015 = Date.UTC(2015, 0, 1);
const DAY_MS = 86_400_000;

/** "Zoë van der Berg" -> "zoe.vanderberg": what an admin's provisioning script would typically produce. */
export function asciiLocalPart(...parts: string[]): string {
  return parts
    .map((part) =>
      part
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .replace(/ł/g, 'l')
        .replace(/Ł/g, 'L')
        .replace(/ø/g, 'o')
        .replace(/Ø/g, 'O')
        .replace(/ı/g, 'i')
        .toLowerCase()
        .replace(/[^a-z0-9]/g, ''),
    )
    .filter((part) => part !== '')
    .join('.');
}

/** Upper-cases the first letter of each dot-separated part, as mail attributes synced from on-prem AD often are. */
function titleCaseAddress(address: string): string {
  const [local = '', domain = ''] = address.split('@');
  const title = (s: string) =>
    s.replace(/(^|\.)([a-z])/g, (_m, dot: string, c: string) => dot + c.toUpperCase());
  return `${title(local)}@${title(domain)}`;
}

function phone(rng: Rng): string {
  return `+1 555 01${randomDigits(rng, 2)} ${randomDigits(rng, 4)}`;
}

function createdDateTime(rng: Rng): string {
  return new Date(EPOCH_2015 + rng.int(3_000) * DAY_MS + rng.int(DAY_MS)).toISOString().replace('.000Z', 'Z');
}

export interface SeedContext {
  rng: Rng;
  domain: string;
  /** Lower-cased principal names already taken in the tenant. */
  takenNames: Set<string>;
}

function uniqueAddress(ctx: SeedContext, local: string, domain: string): string {
  let candidate = `${local}@${domain}`;
  for (let n = 2; ctx.takenNames.has(candidate.toLowerCase()); n++) candidate = `${local}${n}@${domain}`;
  ctx.takenNames.add(candidate.toLowerCase());
  return candidate;
}

/**
 * One plausible member or guest. The mix (roughly 8% without mail, 30% mixed-case mail, 3% guests, 5% disabled,
 * some non-Latin names) is what makes email-based merging interesting.
 */
export function seedUser(ctx: SeedContext): DirectoryUser {
  const { rng } = ctx;
  const nonLatin = rng.chance(0.04);
  const names = nonLatin
    ? rng.pick(NON_LATIN_NAMES)
    : { givenName: rng.pick(GIVEN_NAMES), surname: rng.pick(SURNAMES) };
  const base = {
    id: randomGuid(rng),
    displayName: `${names.givenName} ${names.surname}`,
    givenName: names.givenName as string | null,
    surname: names.surname as string | null,
    jobTitle: rng.chance(0.85) ? rng.pick(JOB_TITLES) : null,
    department: rng.chance(0.85) ? rng.pick(DEPARTMENTS) : null,
    officeLocation: rng.chance(0.7) ? rng.pick(OFFICES) : null,
    mobilePhone: rng.chance(0.6) ? phone(rng) : null,
    businessPhones: rng.chance(0.7) ? [phone(rng)] : [],
    employeeId: rng.chance(0.7) ? `E${randomDigits(rng, 6)}` : null,
    accountEnabled: !rng.chance(0.05),
    onPremisesSyncEnabled: rng.chance(0.4) ? true : null,
    createdDateTime: createdDateTime(rng),
    preferredLanguage: rng.chance(0.6) ? rng.pick(LANGUAGES) : null,
  };

  const local = asciiLocalPart(names.givenName, names.surname) || `user${randomDigits(rng, 5)}`;
  if (rng.chance(0.03)) {
    const external = `${local}@${rng.pick(GUEST_DOMAINS)}`;
    const upn = uniqueAddress(ctx, `${external.replace('@', '_')}#EXT#`, ctx.domain);
    return {
      ...base,
      userPrincipalName: upn,
      // Most invited guests carry their external address in mail; some (never redeemed) have none.
      mail: rng.chance(0.7) ? external : null,
      otherMails: [external],
      userType: 'Guest',
      employeeId: null,
      onPremisesSyncEnabled: null,
    };
  }

  const upn = uniqueAddress(ctx, local, ctx.domain);
  const roll = rng.next();
  const mail = roll < 0.08 ? null : roll < 0.38 ? titleCaseAddress(upn) : upn;
  return { ...base, userPrincipalName: upn, mail, otherMails: [], userType: 'Member' };
}

/** A member whose address is fixed by the caller, so tests can line Entra users up with Google users. */
export function overlapUser(ctx: SeedContext, email: string): DirectoryUser {
  const { rng } = ctx;
  const [local = ''] = email.split('@');
  const words = local.split(/[._-]+/).filter(Boolean);
  const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  const givenName = words[0] ? cap(words[0]) : null;
  const surname = words.length > 1 ? words.slice(1).map(cap).join(' ') : null;
  ctx.takenNames.add(email.toLowerCase());
  return {
    id: randomGuid(rng),
    displayName: [givenName, surname].filter(Boolean).join(' ') || email,
    givenName,
    surname,
    mail: email,
    userPrincipalName: email.toLowerCase(),
    otherMails: [],
    jobTitle: rng.pick(JOB_TITLES),
    department: rng.pick(DEPARTMENTS),
    officeLocation: rng.pick(OFFICES),
    mobilePhone: phone(rng),
    businessPhones: [phone(rng)],
    employeeId: `E${randomDigits(rng, 6)}`,
    accountEnabled: true,
    onPremisesSyncEnabled: null,
    createdDateTime: createdDateTime(rng),
    userType: 'Member',
    preferredLanguage: 'en-US',
  };
}
