import { z } from 'zod';
import { ENTITIES, ENTITY_KINDS, isKnownSourceField, type EntityKind } from './entities.js';

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

/** A people mapping cannot target `email` (always the normalized join key) or `active` (derived from every source). */
const RESERVED_PEOPLE_FIELDS: ReadonlySet<string> = new Set(['email', 'active']);

export const fieldMappingSchema = z.strictObject({
  source: z.string().min(1).max(200),
  target: targetFieldName,
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
    const entity = ENTITIES[m.entity];
    if (!entity.identifiers.includes(m.identifier)) {
      ctx.addIssue({
        code: 'custom',
        path: ['identifier'],
        message: `${entity.label} can be identified by ${entity.identifiers.join(', ')}`,
      });
    }
    if (m.target.kind === 'loginUsers' && m.entity !== 'users') {
      ctx.addIssue({
        code: 'custom',
        path: ['target', 'kind'],
        message: 'only Users can become login users',
      });
    }
    const people = m.target.kind === 'people';
    if (people && m.entity !== 'users') {
      ctx.addIssue({ code: 'custom', path: ['target', 'kind'], message: 'only Users can become people' });
    }
    if (people && m.identifier !== 'primaryEmail') {
      // Sources are joined by email: the record id of a person is their normalized email.
      ctx.addIssue({
        code: 'custom',
        path: ['identifier'],
        message: 'people are identified by primaryEmail',
      });
    }
    const seenTargets = new Set<string>();
    m.fieldMap.forEach((f, i) => {
      if (!isKnownSourceField(m.entity, f.source)) {
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

export function entityOf(m: { entity: EntityKind }) {
  return ENTITIES[m.entity];
}
