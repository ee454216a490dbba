import { z } from 'zod';
import {
  ENTITY_KINDS,
  SOURCE_KINDS,
  entityDescriptor,
  isKnownSourceField,
  type EntityKind,
  type SourceKind,
} from './entities.js';

/**
 * A mapping says: take entity X from the tenant's Google Workspace, key it by identifier Y, copy these fields
 * into that target. Shared by the sync engine, the admin API and the console so the rules cannot drift.
 */

const slug = z
  .string()
  .min(1)
  .max(60)
  .regex(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and dashes, starting with a letter');

const targetFieldName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a letter followed by letters, digits or underscores')
  .refine((s) => !s.startsWith('_sync'), 'names starting with _sync are reserved');

/** The identifier that is a person's email in each source: people of every source are joined by it. */
export const PEOPLE_IDENTIFIER: Record<SourceKind, string> = { google: 'primaryEmail', entra: 'email' };

/** A people mapping cannot target `email` (always the normalized join key) or `active` (derived from every source). */
const RESERVED_PEOPLE_FIELDS: ReadonlySet<string> = new Set(['email', 'active']);

/**
 * Which way a field flows. `fromGoogle` (the default) is read on every sync; `toGoogle` is read the same way (it is
 * how Google's value is seen) and may also be written back to Google from the product; `none` is not synced.
 */
export const FIELD_DIRECTIONS = ['fromGoogle', 'toGoogle', 'none'] as const;
export type FieldDirection = (typeof FIELD_DIRECTIONS)[number];

/**
 * The Chrome OS fields Google lets a write-back change (chromeosdevices.patch). The org unit is written by id
 * (`orgUnitPath` values are resolved to their org unit's id first): a PATCH naming the path is known to fail
 * with "Inconsistent Orgunit id and path".
 */
export const WRITABLE_CHROMEOS_FIELDS: readonly string[] = [
  'annotatedAssetId',
  'annotatedLocation',
  'annotatedUser',
  'notes',
  'orgUnitPath',
  'orgUnitId',
];

/**
 * How a note written from the product is appended to the device's notes at Google (never overwriting what is
 * there: Google's notes are often a shared log kept by several tools). `{{text}}` is the note, `{{by}}` who
 * wrote it, `{{date}}` the UTC date (YYYY-MM-DD).
 */
export const DEFAULT_NOTES_TEMPLATE = '[{{date}} {{by}}] {{text}}';
export const NOTES_TEMPLATE_PLACEHOLDERS = ['text', 'by', 'date'] as const;

const notesTemplateSchema = z
  .string()
  .min(1)
  .max(300)
  .refine((t) => t.includes('{{text}}'), 'the template must contain {{text}}')
  .refine(
    (t) =>
      [...t.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].every((m) =>
        (NOTES_TEMPLATE_PLACEHOLDERS as readonly string[]).includes(m[1]!),
      ),
    `placeholders are ${NOTES_TEMPLATE_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
  );

export const fieldMappingSchema = z.strictObject({
  source: z.string().min(1).max(200),
  target: targetFieldName,
  direction: z.enum(FIELD_DIRECTIONS).optional(),
  /** Only for Chrome OS `notes` written to Google: how a note is appended (DEFAULT_NOTES_TEMPLATE if absent). */
  appendTemplate: notesTemplateSchema.optional(),
});

export const orgUnitPathSchema = z
  .string()
  .min(1)
  .max(1000)
  .regex(/^\/[^]*$/, 'an org unit path starts with /');

export const orgUnitScopeSchema = z.strictObject({
  paths: z.array(orgUnitPathSchema).min(1).max(50),
  includeChildren: z.boolean().default(true),
});

export const LOGIN_USERS_OBJECT = 'login-users';
/** Merged people (Google Workspace + Microsoft Entra, joined by normalized email), one record per person. */
export const PEOPLE_OBJECT = 'people';

export const mappingTargetSchema = z.discriminatedUnion('kind', [
  /** Users become people who can sign in to the host product, with this role. */
  z.strictObject({ kind: z.literal('loginUsers'), role: z.string().min(1).max(60) }),
  /**
   * Users feed the merged people object (its Google source); mapped fields become person fields. Name them as
   * the Entra source does (givenName, familyName, fullName, jobTitle, department, phone, employeeId) for both
   * sources to fill the same field.
   */
  z.strictObject({ kind: z.literal('people') }),
  /** Records in a host-product object (collection), e.g. "chromebooks" or "students". */
  z.strictObject({
    kind: z.literal('collection'),
    objectId: slug
      .refine((s) => s !== LOGIN_USERS_OBJECT, `${LOGIN_USERS_OBJECT} is reserved for login users`)
      .refine(
        (s) => s !== PEOPLE_OBJECT,
        `${PEOPLE_OBJECT} is reserved for merged people (use the people target)`,
      ),
  }),
]);

export const mappingInputSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(120),
    /** Where the entity is read from; Google Workspace unless said otherwise. */
    source: z.enum(SOURCE_KINDS).default('google'),
    entity: z.enum(ENTITY_KINDS),
    identifier: z.string().min(1),
    target: mappingTargetSchema,
    fieldMap: z.array(fieldMappingSchema).min(1).max(200),
    orgUnitScope: orgUnitScopeSchema.nullable().default(null),
    enabled: z.boolean().default(true),
    /** A completed pass that would remove more than this share of records stops and asks a human. */
    removalThresholdPercent: z.number().min(0).max(100).default(10),
  })
  .superRefine((m, ctx) => {
    const entity = entityDescriptor(m);
    if (!entity) {
      ctx.addIssue({
        code: 'custom',
        path: ['entity'],
        message: `${m.source === 'entra' ? 'Microsoft Entra' : 'Google Workspace'} has no ${m.entity} to sync`,
      });
      return;
    }
    if (!entity.identifiers.includes(m.identifier)) {
      ctx.addIssue({
        code: 'custom',
        path: ['identifier'],
        message: `${entity.label} can be identified by ${entity.identifiers.join(', ')}`,
      });
    }
    if (m.target.kind === 'loginUsers' && (m.entity !== 'users' || m.source !== 'google')) {
      ctx.addIssue({
        code: 'custom',
        path: ['target', 'kind'],
        message: 'only Google Workspace users can become login users',
      });
    }
    if (m.orgUnitScope && !entity.fields.includes('orgUnitPath') && m.entity !== 'orgunits') {
      // The scope is checked against each object's orgUnitPath: without one, every object would be out of scope.
      ctx.addIssue({
        code: 'custom',
        path: ['orgUnitScope'],
        message: `${entity.label} have no org unit, so an org unit scope cannot apply (remove the scope)`,
      });
    }
    const people = m.target.kind === 'people';
    if (people && m.entity !== 'users') {
      ctx.addIssue({ code: 'custom', path: ['target', 'kind'], message: 'only Users can become people' });
    }
    const emailIdentifier = PEOPLE_IDENTIFIER[m.source];
    if (people && m.identifier !== emailIdentifier) {
      // Sources are joined by email: the record id of a person is their normalized email.
      ctx.addIssue({
        code: 'custom',
        path: ['identifier'],
        message: `people are identified by ${emailIdentifier}`,
      });
    }
    const seenTargets = new Set<string>();
    m.fieldMap.forEach((f, i) => {
      if (!isKnownSourceField(m.entity, f.source, m.source)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fieldMap', i, 'source'],
          message: `${f.source} is not a field of ${entity.label}`,
        });
      }
      if (seenTargets.has(f.target)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fieldMap', i, 'target'],
          message: `${f.target} is mapped twice`,
        });
      }
      seenTargets.add(f.target);
      if (f.direction === 'toGoogle') {
        const where = ['fieldMap', i, 'direction'];
        if (m.source !== 'google' || m.entity !== 'chromeos') {
          ctx.addIssue({
            code: 'custom',
            path: where,
            message: 'only Chrome OS device fields can be written back to Google',
          });
        } else if (!WRITABLE_CHROMEOS_FIELDS.includes(f.source)) {
          ctx.addIssue({
            code: 'custom',
            path: where,
            message: `${f.source} cannot be written to Google; writable fields are ${WRITABLE_CHROMEOS_FIELDS.join(', ')}`,
          });
        }
      }
      if (f.appendTemplate !== undefined && (f.source !== 'notes' || f.direction !== 'toGoogle')) {
        ctx.addIssue({
          code: 'custom',
          path: ['fieldMap', i, 'appendTemplate'],
          message: 'only Chrome OS notes written back to Google are appended through a template',
        });
      }
      if (people && RESERVED_PEOPLE_FIELDS.has(f.target)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fieldMap', i, 'target'],
          message: `${f.target} is set by the people merge`,
        });
      }
    });
  });

export type MappingInput = z.infer<typeof mappingInputSchema>;
export type MappingTarget = z.infer<typeof mappingTargetSchema>;
export type FieldMapping = z.infer<typeof fieldMappingSchema>;

/** A stored mapping: the admin's input plus identity and an optimistic-concurrency version. */
export interface Mapping extends MappingInput {
  id: string;
  tenantId: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
}

export function objectIdOf(target: MappingTarget): string {
  switch (target.kind) {
    case 'loginUsers':
      return LOGIN_USERS_OBJECT;
    case 'people':
      return PEOPLE_OBJECT;
    case 'collection':
      return target.objectId;
  }
}

export function entityOf(m: { source?: SourceKind; entity: EntityKind }) {
  const d = entityDescriptor(m);
  if (!d) throw new Error(`no ${m.entity} entity in source ${m.source ?? 'google'}`);
  return d;
}

/**
 * Several login-users mappings: one per org unit (or subtree), each with its own role, as Asset Panda's
 * login-access setup has it. Every user belongs to at most one of them, by this rule, which the engine, the
 * API and the console share:
 *
 * - A mapping takes in a user when one of its scope paths does (the path itself, and below it when
 *   `includeChildren`); a mapping without a scope takes in everyone, like the scope `/`.
 * - Of the enabled login-users mappings that take the user in, the one whose matching path is deepest wins
 *   (`/Staff/Teachers` over `/Staff` over `/` or no scope): the most specific org unit decides the role.
 * - Two mappings cannot tie through the API: mappings that name the same org unit (or are both unscoped) are
 *   refused as a conflict. Should stored data tie anyway, the mapping created first wins, then the smaller id.
 * - A user whose org unit no enabled login-users mapping takes in is no login user (removed as out of scope).
 */

/** How deep an org-unit path is: `/` 0, `/Staff` 1, `/Staff/Teachers` 2. */
export function orgUnitDepth(path: string): number {
  return path.split('/').filter(Boolean).length;
}

/** An org-unit path without trailing slashes (`/` stays `/`): the form scopes are compared in. */
export function normalizeOrgUnitPath(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}

type ScopeOf = { orgUnitScope: MappingInput['orgUnitScope'] };

/**
 * The depth of the deepest scope path of `m` that takes in a user in `orgUnitPath`, or null when none does. No
 * scope takes in everyone, at the depth of `/`.
 */
export function loginScopeMatchDepth(m: ScopeOf, orgUnitPath: unknown): number | null {
  if (!m.orgUnitScope) return 0;
  if (typeof orgUnitPath !== 'string') return null;
  let best: number | null = null;
  for (const raw of m.orgUnitScope.paths) {
    const p = normalizeOrgUnitPath(raw);
    const matches =
      orgUnitPath === p || (m.orgUnitScope.includeChildren && (p === '/' || orgUnitPath.startsWith(`${p}/`)));
    if (matches) best = Math.max(best ?? 0, orgUnitDepth(p));
  }
  return best;
}

export interface LoginUsersCandidate extends ScopeOf {
  id: string;
  createdAt: string;
  enabled: boolean;
  target: MappingTarget;
}

/**
 * Which login-users mapping a user in `orgUnitPath` belongs to (the rule above), or null when none of the
 * enabled ones takes the user in.
 */
export function loginUsersOwner<T extends LoginUsersCandidate>(
  mappings: readonly T[],
  orgUnitPath: unknown,
): T | null {
  let owner: T | null = null;
  let ownerDepth = -1;
  for (const m of mappings) {
    if (!m.enabled || m.target.kind !== 'loginUsers') continue;
    const depth = loginScopeMatchDepth(m, orgUnitPath);
    if (depth === null) continue;
    const wins =
      depth > ownerDepth ||
      (depth === ownerDepth &&
        owner !== null &&
        (m.createdAt < owner.createdAt || (m.createdAt === owner.createdAt && m.id < owner.id)));
    if (wins) {
      owner = m;
      ownerDepth = depth;
    }
  }
  return owner;
}

/** The org units a login-users mapping claims, normalized; no scope claims `/`. */
function claimedOrgUnits(m: ScopeOf): string[] {
  return m.orgUnitScope ? m.orgUnitScope.paths.map(normalizeOrgUnitPath) : ['/'];
}

export interface LoginUsersConflict {
  /** The other mapping. */
  with: { id: string; name: string };
  /** The input field the conflict is about, as the API's error details name fields. */
  path: string;
  message: string;
}

/**
 * Why `input` (a login-users mapping) cannot live next to the tenant's other login-users mappings, or null.
 * Conflicts: both claim one org unit (or both have no scope): a user there would have two roles; or they key
 * login users by different identifiers: one person would become two login users. Disabled mappings count
 * too, so enabling one later cannot create a conflict.
 */
export function loginUsersConflict(
  input: Pick<MappingInput, 'target' | 'identifier' | 'orgUnitScope'>,
  others: ReadonlyArray<
    Pick<MappingInput, 'target' | 'identifier' | 'orgUnitScope' | 'name'> & { id: string }
  >,
): LoginUsersConflict | null {
  if (input.target.kind !== 'loginUsers') return null;
  const mine = claimedOrgUnits(input);
  for (const other of others) {
    if (other.target.kind !== 'loginUsers') continue;
    const withOther = { id: other.id, name: other.name };
    if (other.identifier !== input.identifier) {
      return {
        with: withOther,
        path: 'identifier',
        message: `login users are keyed by one identifier: mapping "${other.name}" already identifies them by ${other.identifier}, so ${input.identifier} would make the same person a second login user`,
      };
    }
    const theirs = new Set(claimedOrgUnits(other));
    const shared = mine.findIndex((p) => theirs.has(p));
    if (shared >= 0) {
      const unit = mine[shared]!;
      const where = input.orgUnitScope ? `the org unit ${unit}` : 'every org unit (no scope)';
      return {
        with: withOther,
        path: input.orgUnitScope ? `orgUnitScope.paths.${shared}` : 'orgUnitScope',
        message: `mapping "${other.name}" already gives login users in ${where} the role "${other.target.role}"; each org unit can have one login-users mapping, so choose another org unit, or edit "${other.name}" instead`,
      };
    }
  }
  return null;
}
