import { z } from 'zod';

// Everything Graph and the identity platform send back is parsed here before the rest of the code sees it.
// Objects are loose: Microsoft adds properties over time and an unknown one must not fail a sync.

export const tokenResponseSchema = z.looseObject({
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'expected a Bearer token'),
  // v1 endpoints send it as a string.
  expires_in: z.coerce.number().int().positive(),
  access_token: z.string().min(1),
});

export const aadErrorSchema = z.looseObject({
  error: z.string(),
  error_description: z.string().optional(),
  error_codes: z.array(z.number()).optional(),
  trace_id: z.string().optional(),
  correlation_id: z.string().optional(),
});

export const graphErrorSchema = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string().optional(),
    innerError: z.looseObject({ 'request-id': z.string().optional() }).optional(),
  }),
});

const nullableString = z.string().nullish();

/** A Graph user as returned with $select. Delta responses omit never-set properties, hence nullish everywhere. */
export const graphUserSchema = z.looseObject({
  id: z.string().min(1),
  displayName: nullableString,
  givenName: nullableString,
  surname: nullableString,
  mail: nullableString,
  userPrincipalName: nullableString,
  otherMails: z.array(z.string()).nullish(),
  jobTitle: nullableString,
  department: nullableString,
  officeLocation: nullableString,
  mobilePhone: nullableString,
  businessPhones: z.array(z.string()).nullish(),
  employeeId: nullableString,
  accountEnabled: z.boolean().nullish(),
  onPremisesSyncEnabled: z.boolean().nullish(),
  createdDateTime: nullableString,
  userType: nullableString,
});
export type GraphUser = z.infer<typeof graphUserSchema>;

/** `changed` = soft-deleted (restorable), `deleted` = permanently deleted. */
export const removedUserSchema = z.looseObject({
  id: z.string().min(1),
  '@removed': z.looseObject({ reason: z.string() }),
});
export type RemovedUser = { id: string; reason: string };

export const usersPageSchema = z.looseObject({
  '@odata.nextLink': z.string().optional(),
  value: z.array(graphUserSchema),
});

const deltaItemSchema = z.union([
  removedUserSchema.transform((r) => ({ kind: 'removed' as const, id: r.id, reason: r['@removed'].reason })),
  graphUserSchema.transform((user) => ({ kind: 'user' as const, user })),
]);

export const deltaPageSchema = z.looseObject({
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
  value: z.array(deltaItemSchema),
});
