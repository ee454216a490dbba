import { z } from 'zod';
import { directoryUserSchema } from './directory-user.js';

// Shared by the control API (validating requests) and GraphSimulatorControl (validating responses).

const domainSchema = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must be a DNS domain');
const permissionSchema = z.enum(['User.Read.All', 'Directory.Read.All', 'User.ReadBasic.All']);

export const registerAppInputSchema = z.strictObject({
  clientId: z.guid().optional(),
  clientSecret: z.string().min(8).max(200).optional(),
  displayName: z.string().min(1).max(120).optional(),
  /** Application permissions granted on admin consent. User.ReadBasic.All alone cannot read department etc. */
  permissions: z.array(permissionSchema).optional(),
  /** Redirect URIs accepted by the admin consent endpoint; empty accepts any (convenient locally). */
  redirectUris: z.array(z.url()).optional(),
});
export type RegisterAppInput = z.input<typeof registerAppInputSchema>;

export const appRegistrationSchema = z.strictObject({
  clientId: z.string(),
  clientSecret: z.string(),
  displayName: z.string(),
  permissions: z.array(permissionSchema),
  redirectUris: z.array(z.string()),
});
export type AppRegistration = z.infer<typeof appRegistrationSchema>;

export const createTenantInputSchema = z.strictObject({
  tenantId: z.guid().optional(),
  /** Initial (default) domain, e.g. contoso.onmicrosoft.com or a verified school domain. */
  domain: domainSchema,
  displayName: z.string().min(1).max(120).optional(),
  seed: z.int().min(0).max(0xffffffff).optional(),
  users: z.int().min(0).max(50_000).default(25),
  /** Members whose addresses equal the given (e.g. Google Workspace) emails, on an extra verified domain. */
  overlapWith: z
    .strictObject({
      domain: domainSchema,
      emails: z.array(z.email()).max(50_000),
    })
    .optional(),
  /** Client ids whose admin consent is already granted (skips the /adminconsent round trip in tests). */
  consentedClientIds: z.array(z.string()).default([]),
  tokenLifetimeSeconds: z.int().min(1).max(86_400).default(3599),
  /** How incremental delta rounds list a user changed several times (graph-directory.ts DeltaChanges). */
  deltaChanges: z.enum(['latestState', 'everyChange']).default('latestState'),
});
export type CreateTenantInput = z.input<typeof createTenantInputSchema>;

export const tenantViewSchema = z.strictObject({
  tenantId: z.string(),
  domain: z.string(),
  domains: z.array(z.string()),
  displayName: z.string(),
  users: z.int(),
  deletedUsers: z.int(),
  consentedClientIds: z.array(z.string()),
  consentDecision: z.enum(['approve', 'deny']),
  tokenLifetimeSeconds: z.int(),
  deltaChanges: z.enum(['latestState', 'everyChange']),
});
export type TenantView = z.infer<typeof tenantViewSchema>;

const userFields = directoryUserSchema.omit({ id: true }).shape;

export const addUserInputSchema = z.strictObject({
  id: z.guid().optional(),
  userPrincipalName: userFields.userPrincipalName,
  displayName: userFields.displayName.optional(),
  givenName: userFields.givenName.optional(),
  surname: userFields.surname.optional(),
  mail: userFields.mail.optional(),
  otherMails: userFields.otherMails.optional(),
  jobTitle: userFields.jobTitle.optional(),
  department: userFields.department.optional(),
  officeLocation: userFields.officeLocation.optional(),
  mobilePhone: userFields.mobilePhone.optional(),
  businessPhones: userFields.businessPhones.optional(),
  employeeId: userFields.employeeId.optional(),
  accountEnabled: userFields.accountEnabled.optional(),
  onPremisesSyncEnabled: userFields.onPremisesSyncEnabled.optional(),
  userType: userFields.userType.optional(),
  preferredLanguage: userFields.preferredLanguage.optional(),
  createdDateTime: z.iso.datetime().optional(),
});
export type AddUserInput = z.input<typeof addUserInputSchema>;

export const updateUserInputSchema = addUserInputSchema
  .omit({ id: true, createdDateTime: true })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'an update needs at least one property');
export type UpdateUserInput = z.input<typeof updateUserInputSchema>;

export const controlUserSchema = directoryUserSchema.extend({
  state: z.enum(['active', 'softDeleted']),
  deletedDateTime: z.string().nullable(),
});
export type ControlUser = z.infer<typeof controlUserSchema>;

export const consentInputSchema = z.strictObject({ clientId: z.string().min(1) });
export const deltaChangesInputSchema = z.strictObject({ mode: z.enum(['latestState', 'everyChange']) });
export const consentDecisionInputSchema = z.strictObject({ decision: z.enum(['approve', 'deny']) });

export const FAULT_KINDS = ['throttle', 'unavailable', 'gatewayTimeout', 'latency'] as const;

export const faultInputSchema = z.strictObject({
  /** throttle = 429 + Retry-After, unavailable = 503, gatewayTimeout = 504, latency = delay then serve. */
  kind: z.enum(FAULT_KINDS),
  /** graph = /v1.0/*, identity = token and admin consent endpoints. */
  target: z.enum(['graph', 'identity', 'any']).default('graph'),
  /** Only requests for this tenant (GUID or domain as seen in the request / token). */
  tenantId: z.string().optional(),
  /** Only requests whose path contains this text, e.g. "/users/delta". */
  pathContains: z.string().optional(),
  /** Fire for the next N matching requests, then retire. Without count the fault stays until cleared. */
  count: z.int().min(1).optional(),
  /** Probability per matching request, drawn from a seeded PRNG so runs repeat. */
  rate: z.number().min(0).max(1).optional(),
  seed: z.int().min(0).max(0xffffffff).optional(),
  retryAfterSeconds: z.int().min(0).max(3_600).optional(),
  latencyMs: z.int().min(0).max(60_000).optional(),
});
export type FaultInput = z.input<typeof faultInputSchema>;

export const faultViewSchema = z.strictObject({
  id: z.string(),
  kind: z.enum(FAULT_KINDS),
  target: z.enum(['graph', 'identity', 'any']),
  tenantId: z.string().nullable(),
  pathContains: z.string().nullable(),
  remaining: z.int().nullable(),
  rate: z.number().nullable(),
  retryAfterSeconds: z.int().nullable(),
  latencyMs: z.int().nullable(),
  fired: z.int(),
});
export type FaultView = z.infer<typeof faultViewSchema>;

export const statsSchema = z.strictObject({
  requests: z.strictObject({
    token: z.int(),
    adminConsent: z.int(),
    users: z.int(),
    delta: z.int(),
    other: z.int(),
  }),
  /** Responses by HTTP status, control API excluded. */
  statuses: z.record(z.string(), z.int()),
  tokensIssued: z.int(),
  faultsFired: z.strictObject({
    throttle: z.int(),
    unavailable: z.int(),
    gatewayTimeout: z.int(),
    latency: z.int(),
  }),
});
export type GraphSimulatorStats = z.infer<typeof statsSchema>;

export const controlErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
