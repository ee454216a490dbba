export const SCOPE_PREFIX = 'https://www.googleapis.com/auth/';

export const SCOPES = {
  user: `${SCOPE_PREFIX}admin.directory.user`,
  userReadonly: `${SCOPE_PREFIX}admin.directory.user.readonly`,
  orgunit: `${SCOPE_PREFIX}admin.directory.orgunit`,
  orgunitReadonly: `${SCOPE_PREFIX}admin.directory.orgunit.readonly`,
  chromeos: `${SCOPE_PREFIX}admin.directory.device.chromeos`,
  chromeosReadonly: `${SCOPE_PREFIX}admin.directory.device.chromeos.readonly`,
  mobile: `${SCOPE_PREFIX}admin.directory.device.mobile`,
  mobileAction: `${SCOPE_PREFIX}admin.directory.device.mobile.action`,
  mobileReadonly: `${SCOPE_PREFIX}admin.directory.device.mobile.readonly`,
  customer: `${SCOPE_PREFIX}admin.directory.customer`,
  customerReadonly: `${SCOPE_PREFIX}admin.directory.customer.readonly`,
  group: `${SCOPE_PREFIX}admin.directory.group`,
  groupReadonly: `${SCOPE_PREFIX}admin.directory.group.readonly`,
  groupMember: `${SCOPE_PREFIX}admin.directory.group.member`,
  groupMemberReadonly: `${SCOPE_PREFIX}admin.directory.group.member.readonly`,
  cloudPlatform: `${SCOPE_PREFIX}cloud-platform`,
  userinfoEmail: `${SCOPE_PREFIX}userinfo.email`,
  userinfoProfile: `${SCOPE_PREFIX}userinfo.profile`,
  openid: 'openid',
} as const;

/** Every read-only scope the sync service asks for, handy for tests and the demo. */
export const READONLY_DIRECTORY_SCOPES = [
  SCOPES.userReadonly,
  SCOPES.orgunitReadonly,
  SCOPES.chromeosReadonly,
  SCOPES.mobileReadonly,
  SCOPES.customerReadonly,
] as const;

/** The manage scopes device write-back needs (Chrome OS writes and status changes; mobile actions). */
export const DEVICE_MANAGE_SCOPES = [SCOPES.chromeos, SCOPES.mobileAction] as const;

/** Which scopes authorise each method (from the discovery document's per-method `scopes`). */
export const METHOD_SCOPES = {
  'directory.users.list': [SCOPES.user, SCOPES.userReadonly, SCOPES.cloudPlatform],
  'directory.users.get': [SCOPES.user, SCOPES.userReadonly, SCOPES.cloudPlatform],
  'directory.users.watch': [SCOPES.user, SCOPES.userReadonly, SCOPES.cloudPlatform],
  'directory.channels.stop': [
    SCOPES.user,
    `${SCOPE_PREFIX}admin.directory.user.alias`,
    `${SCOPE_PREFIX}admin.directory.user.alias.readonly`,
    SCOPES.userReadonly,
    SCOPES.cloudPlatform,
  ],
  'directory.orgunits.list': [SCOPES.orgunit, SCOPES.orgunitReadonly],
  'directory.orgunits.get': [SCOPES.orgunit, SCOPES.orgunitReadonly],
  'directory.chromeosdevices.list': [SCOPES.chromeos, SCOPES.chromeosReadonly],
  'directory.chromeosdevices.get': [SCOPES.chromeos, SCOPES.chromeosReadonly],
  // Writes: the discovery document lists only the manage scope for these.
  'directory.chromeosdevices.update': [SCOPES.chromeos],
  'directory.chromeosdevices.patch': [SCOPES.chromeos],
  'directory.chromeosdevices.action': [SCOPES.chromeos],
  'directory.chromeosdevices.moveDevicesToOu': [SCOPES.chromeos],
  'directory.customer.devices.chromeos.batchChangeStatus': [SCOPES.chromeos],
  'directory.mobiledevices.list': [SCOPES.mobile, SCOPES.mobileAction, SCOPES.mobileReadonly],
  'directory.mobiledevices.get': [SCOPES.mobile, SCOPES.mobileAction, SCOPES.mobileReadonly],
  'directory.mobiledevices.action': [SCOPES.mobile, SCOPES.mobileAction],
  'directory.customers.get': [SCOPES.customer, SCOPES.customerReadonly],
  'directory.groups.list': [SCOPES.group, SCOPES.groupReadonly],
  'directory.groups.get': [SCOPES.group, SCOPES.groupReadonly],
  'directory.members.list': [
    SCOPES.group,
    SCOPES.groupMember,
    SCOPES.groupMemberReadonly,
    SCOPES.groupReadonly,
  ],
} as const;
export type DirectoryMethod = keyof typeof METHOD_SCOPES;

/** The RPC names Google reports in ErrorInfo metadata for scope errors. */
export const RPC_METHOD_NAMES: Record<DirectoryMethod, string> = {
  'directory.users.list': 'ccc.hosted.frontend.directory.v1.DirectoryUsers.List',
  'directory.users.get': 'ccc.hosted.frontend.directory.v1.DirectoryUsers.Get',
  // Not observed from Google: named after the pattern of the methods around them.
  'directory.users.watch': 'ccc.hosted.frontend.directory.v1.DirectoryUsers.Watch',
  'directory.channels.stop': 'ccc.hosted.frontend.directory.v1.DirectoryChannels.Stop',
  'directory.orgunits.list': 'ccc.hosted.frontend.directory.v1.DirectoryOrgunits.List',
  'directory.orgunits.get': 'ccc.hosted.frontend.directory.v1.DirectoryOrgunits.Get',
  'directory.chromeosdevices.list': 'ccc.hosted.frontend.directory.v1.DirectoryChromeosdevices.List',
  'directory.chromeosdevices.get': 'ccc.hosted.frontend.directory.v1.DirectoryChromeosdevices.Get',
  'directory.chromeosdevices.update': 'ccc.hosted.frontend.directory.v1.DirectoryChromeosdevices.Update',
  'directory.chromeosdevices.patch': 'ccc.hosted.frontend.directory.v1.DirectoryChromeosdevices.Patch',
  'directory.chromeosdevices.action': 'ccc.hosted.frontend.directory.v1.DirectoryChromeosdevices.Action',
  'directory.chromeosdevices.moveDevicesToOu':
    'ccc.hosted.frontend.directory.v1.DirectoryChromeosdevices.MoveDevicesToOu',
  // Not observed from Google: named after the pattern of the methods above.
  'directory.customer.devices.chromeos.batchChangeStatus':
    'ccc.hosted.frontend.directory.v1.DirectoryCustomerDevicesChromeos.BatchChangeStatus',
  'directory.mobiledevices.list': 'ccc.hosted.frontend.directory.v1.DirectoryMobiledevices.List',
  'directory.mobiledevices.get': 'ccc.hosted.frontend.directory.v1.DirectoryMobiledevices.Get',
  'directory.mobiledevices.action': 'ccc.hosted.frontend.directory.v1.DirectoryMobiledevices.Action',
  'directory.customers.get': 'ccc.hosted.frontend.directory.v1.DirectoryCustomers.Get',
  'directory.groups.list': 'ccc.hosted.frontend.directory.v1.DirectoryGroups.List',
  'directory.groups.get': 'ccc.hosted.frontend.directory.v1.DirectoryGroups.Get',
  'directory.members.list': 'ccc.hosted.frontend.directory.v1.DirectoryMembers.List',
};

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  [SCOPES.user]: 'View and manage the provisioning of users on your domain',
  [SCOPES.userReadonly]: 'See info about users on your domain',
  [SCOPES.orgunit]: 'View and manage organization units on your domain',
  [SCOPES.orgunitReadonly]: 'View organization units on your domain',
  [SCOPES.chromeos]: "View and manage your Chrome OS devices' metadata",
  [SCOPES.chromeosReadonly]: "View your Chrome OS devices' metadata",
  [SCOPES.mobile]: "View and manage your mobile devices' metadata",
  [SCOPES.mobileAction]: 'Manage your mobile devices by performing administrative tasks',
  [SCOPES.mobileReadonly]: "View your mobile devices' metadata",
  [SCOPES.customer]: 'View and manage customer related information',
  [SCOPES.customerReadonly]: 'View customer related information',
  [SCOPES.group]: 'View and manage the provisioning of groups on your domain',
  [SCOPES.groupReadonly]: 'View groups on your domain',
  [SCOPES.groupMember]: 'View and manage group subscriptions on your domain',
  [SCOPES.groupMemberReadonly]: 'View group subscriptions on your domain',
  [SCOPES.cloudPlatform]: 'See, edit, configure, and delete your Google Cloud data',
  [SCOPES.userinfoEmail]: 'See your primary Google Account email address',
  [SCOPES.userinfoProfile]:
    "See your personal info, including any personal info you've made publicly available",
  openid: 'Associate you with your personal info on Google',
};

export function describeScope(scope: string): string {
  return SCOPE_DESCRIPTIONS[scope] ?? scope;
}

/** Google rewrites the short sign-in scopes to their URLs in what it reports back. */
export function normalizeScope(scope: string): string {
  if (scope === 'email') return SCOPES.userinfoEmail;
  if (scope === 'profile') return SCOPES.userinfoProfile;
  return scope;
}

export function isKnownScope(scope: string): boolean {
  return (
    scope === 'openid' ||
    scope === 'email' ||
    scope === 'profile' ||
    /^https:\/\/www\.googleapis\.com\/auth\/[\w.-]+$/.test(scope)
  );
}

/** Sign-in scopes cannot be unticked on the consent screen. */
export const isBasicScope = (scope: string) =>
  scope === 'openid' || scope === SCOPES.userinfoEmail || scope === SCOPES.userinfoProfile;

export function hasAnyScope(granted: readonly string[], accepted: readonly string[]): boolean {
  return accepted.some((s) => granted.includes(s));
}
