import { z } from 'zod';
import { ADMIN_PRIVILEGES } from './admin-privileges.js';

/** Request bodies of the `/_control` API. Shared by the server (validation) and SimulatorControl (types). */

const email = z
  .string()
  .max(254)
  .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be an email address');
const isoTime = z.iso.datetime({ offset: true });
const jsonObject = z.record(z.string(), z.unknown());
const ouName = z
  .string()
  .min(1)
  .max(100)
  .refine((s) => !s.includes('/'), 'an org unit name cannot contain "/"');
const ouPath = z.string().min(1).max(1000);

export const seedSpecSchema = z.strictObject({
  domain: z
    .string()
    .regex(
      /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/i,
      'must be a DNS domain',
    ),
  customerId: z
    .string()
    .regex(/^C[0-9a-z]{6,12}$/i, 'must look like C0xxxxxxx')
    .optional(),
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  users: z.number().int().min(1).max(500_000).optional(),
  chromeos: z.number().int().min(0).max(200_000).optional(),
  mobile: z.number().int().min(0).max(200_000).optional(),
  /** Defaults to about one group per ten users (at least a few). */
  groups: z.number().int().min(0).max(50_000).optional(),
});

/** Free-form resource fields an admin edit may replace; `null` removes the field. */
const userDetailFields = {
  phones: z.array(jsonObject).nullable().optional(),
  organizations: z.array(jsonObject).nullable().optional(),
  externalIds: z.array(jsonObject).nullable().optional(),
  locations: z.array(jsonObject).nullable().optional(),
  relations: z.array(jsonObject).nullable().optional(),
  addresses: z.array(jsonObject).nullable().optional(),
  languages: z.array(jsonObject).nullable().optional(),
  websites: z.array(jsonObject).nullable().optional(),
  ims: z.array(jsonObject).nullable().optional(),
  keywords: z.array(jsonObject).nullable().optional(),
  gender: jsonObject.nullable().optional(),
  notes: jsonObject.nullable().optional(),
  nonEditableAliases: z.array(z.string()).nullable().optional(),
  customSchemas: z.record(z.string(), jsonObject).nullable().optional(),
  recoveryEmail: z.string().nullable().optional(),
  recoveryPhone: z.string().nullable().optional(),
  thumbnailPhotoUrl: z.string().nullable().optional(),
  includeInGlobalAddressList: z.boolean().nullable().optional(),
};

const personName = z.string().min(1).max(60);

export const newUserSchema = z.strictObject({
  primaryEmail: email,
  givenName: personName,
  familyName: personName,
  orgUnitPath: ouPath.optional(),
  isAdmin: z.boolean().optional(),
  isDelegatedAdmin: z.boolean().optional(),
  /** The delegated admin's custom role: exactly these privileges (admin-privileges.ts). */
  adminPrivileges: z.array(z.enum(ADMIN_PRIVILEGES)).optional(),
  suspended: z.boolean().optional(),
  archived: z.boolean().optional(),
  isEnrolledIn2Sv: z.boolean().optional(),
  isEnforcedIn2Sv: z.boolean().optional(),
  changePasswordAtNextLogin: z.boolean().optional(),
  aliases: z.array(email).optional(),
  creationTime: isoTime.optional(),
  lastLoginTime: isoTime.optional(),
  ...userDetailFields,
});
export type NewUserInput = z.infer<typeof newUserSchema>;

export const userUpdateSchema = z.strictObject({
  primaryEmail: email.optional(),
  name: z.strictObject({ givenName: personName.optional(), familyName: personName.optional() }).optional(),
  orgUnitPath: ouPath.optional(),
  isAdmin: z.boolean().optional(),
  isDelegatedAdmin: z.boolean().optional(),
  /** The delegated admin's custom role: exactly these privileges (admin-privileges.ts). */
  adminPrivileges: z.array(z.enum(ADMIN_PRIVILEGES)).optional(),
  isEnrolledIn2Sv: z.boolean().optional(),
  isEnforcedIn2Sv: z.boolean().optional(),
  changePasswordAtNextLogin: z.boolean().optional(),
  aliases: z.array(email).optional(),
  lastLoginTime: isoTime.optional(),
  ...userDetailFields,
});
export type UserUpdateInput = z.infer<typeof userUpdateSchema>;

export const bulkRenameSchema = z.strictObject({
  count: z.number().int().min(1).max(1_000_000),
  /** customerId or domain; defaults to the most recently created workspace. */
  workspace: z.string().min(1).optional(),
});
export type BulkRenameInput = z.infer<typeof bulkRenameSchema>;

export const undeleteUserSchema = z.strictObject({ orgUnitPath: ouPath.optional() });
export type UndeleteUserInput = z.infer<typeof undeleteUserSchema>;

export const newOrgUnitSchema = z.strictObject({
  name: ouName,
  parentOrgUnitPath: ouPath.optional(),
  description: z.string().max(1000).optional(),
});
export type NewOrgUnitInput = z.infer<typeof newOrgUnitSchema>;

export const orgUnitUpdateSchema = z.strictObject({
  /** Current path (or `id:...`) of the org unit to change. */
  orgUnitPath: ouPath,
  name: ouName.optional(),
  parentOrgUnitPath: ouPath.optional(),
  description: z.string().max(1000).optional(),
});
export type OrgUnitUpdateInput = z.infer<typeof orgUnitUpdateSchema>;

const chromeStatus = z.enum(['ACTIVE', 'DISABLED', 'DEPROVISIONED', 'PROVISIONED']);

export const newChromeOsSchema = z.strictObject({
  serialNumber: z.string().min(1).max(100),
  deviceId: z.string().min(1).max(100).optional(),
  status: chromeStatus.optional(),
  orgUnitPath: ouPath.optional(),
  annotatedUser: z.string().max(100).optional(),
  annotatedAssetId: z.string().max(200).optional(),
  annotatedLocation: z.string().max(200).optional(),
  notes: z.string().max(500).optional(),
  model: z.string().max(200).optional(),
  lastSync: isoTime.optional(),
  recentUser: email.optional(),
  /** Raw resource fields layered over the generated ones (for odd shapes in tests). */
  overrides: jsonObject.optional(),
});
export type NewChromeOsInput = z.infer<typeof newChromeOsSchema>;

export const chromeOsUpdateSchema = z.strictObject({
  serialNumber: z.string().min(1).max(100).optional(),
  status: chromeStatus.optional(),
  orgUnitPath: ouPath.optional(),
  annotatedUser: z.string().max(100).nullable().optional(),
  annotatedAssetId: z.string().max(200).nullable().optional(),
  annotatedLocation: z.string().max(200).nullable().optional(),
  notes: z.string().max(500).nullable().optional(),
  model: z.string().max(200).optional(),
  lastSync: isoTime.optional(),
  recentUser: email.nullable().optional(),
  overrides: jsonObject.optional(),
});
export type ChromeOsUpdateInput = z.infer<typeof chromeOsUpdateSchema>;

const mobileType = z.enum(['ANDROID', 'IOS_SYNC', 'GOOGLE_SYNC']);
const mobileStatus = z.enum(['APPROVED', 'PENDING', 'BLOCKED', 'WIPING', 'ACCOUNT_WIPING']);

export const newMobileSchema = z.strictObject({
  type: mobileType,
  email: z.array(email).min(1),
  name: z.array(z.string().max(200)).optional(),
  status: mobileStatus.optional(),
  resourceId: z.string().min(1).max(200).optional(),
  deviceId: z.string().max(200).optional(),
  serialNumber: z.string().max(100).optional(),
  model: z.string().max(200).optional(),
  os: z.string().max(200).optional(),
  lastSync: isoTime.optional(),
  overrides: jsonObject.optional(),
});
export type NewMobileInput = z.infer<typeof newMobileSchema>;

export const mobileUpdateSchema = z.strictObject({
  email: z.array(email).optional(),
  name: z.array(z.string().max(200)).optional(),
  status: mobileStatus.optional(),
  serialNumber: z.string().max(100).optional(),
  model: z.string().max(200).optional(),
  os: z.string().max(200).optional(),
  lastSync: isoTime.optional(),
  overrides: jsonObject.optional(),
});
export type MobileUpdateInput = z.infer<typeof mobileUpdateSchema>;

const memberRole = z.enum(['OWNER', 'MANAGER', 'MEMBER']);

export const newGroupSchema = z.strictObject({
  email,
  name: z.string().min(1).max(75).optional(),
  /** The Group schema caps descriptions at 4,096 characters. */
  description: z.string().max(4096).optional(),
  aliases: z.array(email).optional(),
  adminCreated: z.boolean().optional(),
});
export type NewGroupInput = z.infer<typeof newGroupSchema>;

export const groupUpdateSchema = z.strictObject({
  email: email.optional(),
  name: z.string().min(1).max(75).optional(),
  description: z.string().max(4096).optional(),
  aliases: z.array(email).optional(),
});
export type GroupUpdateInput = z.infer<typeof groupUpdateSchema>;

/**
 * A user or group of the workspace (by email or id), an outside address (becomes EXTERNAL), or
 * `{type: 'CUSTOMER'}` for "all users in the domain".
 */
export const newMemberSchema = z
  .strictObject({
    email: email.optional(),
    id: z.string().min(1).max(100).optional(),
    type: z.literal('CUSTOMER').optional(),
    role: memberRole.optional(),
  })
  .refine((m) => (m.type === 'CUSTOMER') !== (m.email !== undefined || m.id !== undefined), {
    message: 'give email or id, or type CUSTOMER alone',
  });
export type NewMemberInput = z.infer<typeof newMemberSchema>;

export const memberUpdateSchema = z.strictObject({ role: memberRole });
export type MemberUpdateInput = z.infer<typeof memberUpdateSchema>;

export const issueTokenSchema = z.strictObject({
  customerId: z.string().min(1),
  /** Defaults to the workspace's admin. */
  userEmail: email.optional(),
  scopes: z.array(z.string().min(1)).min(1),
  clientId: z.string().min(1).optional(),
  /** Also issue a refresh token (as `access_type=offline` would). */
  offline: z.boolean().optional(),
});
export type IssueTokenInput = z.infer<typeof issueTokenSchema>;

export const expireTokenSchema = z.strictObject({ accessToken: z.string().min(1) });

export const consentDecisionSchema = z.strictObject({
  decision: z.enum(['approve', 'deny']),
  /** Simulates the user unticking scopes on the consent screen: only these (of those requested) are granted. */
  grantedScopes: z.array(z.string().min(1)).optional(),
});
export type ConsentDecisionInput = z.infer<typeof consentDecisionSchema>;

export const oauthClientSchema = z.strictObject({
  clientId: z.string().min(1).max(200),
  clientSecret: z.string().min(1).max(200),
  redirectUris: z.array(z.url()).min(1),
});
export type OAuthClientInput = z.infer<typeof oauthClientSchema>;

export const quotaSchema = z.strictObject({
  /** Queries per window (a minute unless `windowMs` says otherwise) per (admin) user; Google's is 2,400. */
  userQpm: z.number().int().min(1).max(10_000_000),
  /** The window's length; Google's is a minute (the default). Shorter windows let tests see several. */
  windowMs: z.number().int().min(600).max(3_600_000).default(60_000),
});
export type QuotaInput = z.infer<typeof quotaSchema>;

export const faultKindSchema = z.enum([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'quotaExceeded',
  'backendError',
  'internalError',
  'latency',
  'expiredPageToken',
  'connectionReset',
]);
export type FaultKind = z.infer<typeof faultKindSchema>;

export const faultSpecSchema = z
  .strictObject({
    kind: faultKindSchema,
    /** Probability per matching request (0..1). */
    rate: z.number().min(0).max(1).optional(),
    /** Apply to the next N matching requests (default 1 when `rate` is absent). */
    count: z.number().int().min(1).max(1_000_000).optional(),
    /** Only requests whose path contains this substring, e.g. `/devices/chromeos`. */
    pathContains: z.string().min(1).optional(),
    /** For `backendError`: 503 (default) or 500. */
    status: z.union([z.literal(500), z.literal(503)]).optional(),
    /** For `latency`: the delay, or with `latencyMaxMs` the lower end of the range each delay is drawn from. */
    latencyMs: z.number().int().min(0).max(120_000).optional(),
    /** For `latency`: draw each request's delay between `latencyMs` and this, from the seeded fault dice. */
    latencyMaxMs: z.number().int().min(0).max(120_000).optional(),
    /**
     * How the drawn delays spread between `latencyMs` and `latencyMaxMs`: `uniform` (default), or `logNormal`
     * (the range is the central 95 %, median at its geometric mean; draws outside it are clamped to it).
     */
    latencyDistribution: z.enum(['uniform', 'logNormal']).optional(),
    /** For `connectionReset`: drop before any byte is sent, or half-way through the body (default). */
    phase: z.enum(['beforeHeaders', 'midBody']).optional(),
  })
  .refine((f) => !(f.rate !== undefined && f.count !== undefined), 'give either rate or count, not both')
  .refine((f) => f.kind !== 'latency' || f.latencyMs !== undefined, 'latency faults need latencyMs')
  .refine(
    (f) => f.latencyMaxMs === undefined || (f.latencyMs !== undefined && f.latencyMaxMs >= f.latencyMs),
    'latencyMaxMs needs latencyMs and must not be below it',
  )
  .refine(
    (f) => f.latencyDistribution === undefined || f.latencyMaxMs !== undefined,
    'latencyDistribution needs latencyMaxMs',
  );
export type FaultSpec = z.infer<typeof faultSpecSchema>;

export const faultsSchema = z.strictObject({
  /** Seeds the fault dice so rate-based faults fire on the same requests every run. */
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  faults: z.array(faultSpecSchema).max(100).optional(),
  /** The next N calls to the token endpoint fail with HTTP 500. */
  failTokenEndpoint: z.number().int().min(0).max(1000).optional(),
});
export type FaultsInput = z.infer<typeof faultsSchema>;
