import { z } from 'zod';

/** The subset of microsoft.graph.user the simulator models. Property names and nullability follow v1.0. */
export const directoryUserSchema = z.strictObject({
  id: z.string(),
  displayName: z.string().nullable(),
  givenName: z.string().nullable(),
  surname: z.string().nullable(),
  mail: z.string().nullable(),
  userPrincipalName: z.string(),
  otherMails: z.array(z.string()),
  jobTitle: z.string().nullable(),
  department: z.string().nullable(),
  officeLocation: z.string().nullable(),
  mobilePhone: z.string().nullable(),
  businessPhones: z.array(z.string()),
  employeeId: z.string().nullable(),
  accountEnabled: z.boolean(),
  onPremisesSyncEnabled: z.boolean().nullable(),
  createdDateTime: z.string(),
  userType: z.enum(['Member', 'Guest']),
  preferredLanguage: z.string().nullable(),
});
export type DirectoryUser = z.infer<typeof directoryUserSchema>;
export type UserProperty = keyof DirectoryUser;

export const USER_PROPERTIES = Object.keys(directoryUserSchema.shape) as UserProperty[];

/** What Graph v1.0 returns for a user when the request has no $select. */
export const DEFAULT_USER_PROPERTIES: readonly UserProperty[] = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

/** Graph matches property names case-insensitively in $select and $filter. */
const BY_LOWER_NAME = new Map(USER_PROPERTIES.map((name) => [name.toLowerCase(), name]));

export function resolveUserProperty(name: string): UserProperty | undefined {
  return BY_LOWER_NAME.get(name.trim().toLowerCase());
}

export function isGuestPrincipalName(upn: string): boolean {
  return upn.includes('#EXT#');
}
