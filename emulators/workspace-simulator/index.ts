export { startWorkspaceSimulator } from './server.js';
export type { SimulatorHandle, SimulatorOptions } from './server.js';
export type { SeedSpec } from './seed.js';
export { SEED_EPOCH_MS } from './seed.js';
export { DEFAULT_OAUTH_CLIENT } from './oauth-state.js';
export { SimulatorControl, SimulatorControlError } from './control-client.js';
export type { IssuedToken, WorkspaceSummary, CreatedWorkspace } from './control-client.js';
export { SCOPES, READONLY_DIRECTORY_SCOPES, DEVICE_MANAGE_SCOPES } from './scopes.js';
export type {
  ChromeOsUpdateInput,
  ConsentDecisionInput,
  FaultSpec,
  FaultsInput,
  IssueTokenInput,
  MobileUpdateInput,
  NewChromeOsInput,
  NewMobileInput,
  NewOrgUnitInput,
  NewUserInput,
  OAuthClientInput,
  OrgUnitUpdateInput,
  UndeleteUserInput,
  UserUpdateInput,
} from './control-schemas.js';
export type { FaultState } from './faults.js';
export type { StatsSnapshot, RouteStats, LatencyStats } from './stats.js';
export type { ServiceAccountKeyFile } from './service-accounts.js';
export { ADMIN_PRIVILEGES, type AdminPrivilege } from './admin-privileges.js';
