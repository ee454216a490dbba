import { z } from 'zod';
import { TENANT_ID_PATTERN } from '../store/tenants.js';

/**
 * Every path parameter the API knows, with what a valid one looks like. Anything else is refused before a
 * Firestore path is built from it, so a crafted id cannot reach another document.
 */
const firestoreId = z
  .string()
  .min(1)
  .max(1500)
  .refine((s) => !s.includes('/'), 'must not contain "/"')
  .refine((s) => s !== '.' && s !== '..', 'must not be "." or ".."')
  .refine((s) => !/^__.*__$/.test(s), 'must not look like __name__');

export const PARAM_SCHEMAS = {
  tenantId: z.string().regex(TENANT_ID_PATTERN, 'lowercase letters, digits and dashes (1-40)'),
  mappingId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'letters, digits, dashes and underscores (1-100)'),
  runId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'letters, digits, dashes and underscores (1-100)'),
  objectId: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,59}$/, 'lowercase letters, digits and dashes, starting with a letter'),
  recordId: firestoreId,
  // Device action ids are run-id shaped (engine/run-id.ts).
  actionId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'letters, digits, dashes and underscores (1-100)'),
  // A member is addressed by email; case does not matter (ids are stored lowercased).
  memberEmail: z.email('must be an email address').max(254),
} as const;

export type ParamName = keyof typeof PARAM_SCHEMAS;
