import { z } from 'zod';
import { SOURCE_NAMES, type SourceName } from './source-person.js';

/**
 * Which source wins a field. Each list runs from lowest to highest priority, so the default
 * `['google', 'entra']` reads "take Google, then let Entra overwrite", as the host products do.
 * A source missing from a field's list never supplies that field (a per-field list can exclude a source).
 */
export interface PrecedencePolicy {
  default: SourceName[];
  perField?: Record<string, SourceName[]>;
}

export const DEFAULT_PRECEDENCE_POLICY: PrecedencePolicy = { default: ['google', 'entra'] };

/** `active` is derived from every source (see mergePerson), so a precedence order for it would be ignored. */
export const RESERVED_FIELDS: readonly string[] = ['active'];

const sourceOrderSchema = z
  .array(z.enum(SOURCE_NAMES))
  .min(1, 'list at least one source')
  .refine((list) => new Set(list).size === list.length, 'a source may appear only once');

const fieldNameSchema = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/,
    'field names are identifiers, optionally dotted',
  )
  .max(100)
  .refine(
    (name) => !RESERVED_FIELDS.includes(name),
    'active is derived from all sources and takes no precedence',
  );

/** Tenant configuration input; parse with this before handing a policy to mergePerson. */
export const precedencePolicySchema = z.strictObject({
  default: sourceOrderSchema,
  perField: z.record(fieldNameSchema, sourceOrderSchema).optional(),
});

export function precedenceFor(policy: PrecedencePolicy, field: string): readonly SourceName[] {
  return policy.perField?.[field] ?? policy.default;
}
