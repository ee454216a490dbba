export {
  DEFAULT_AUTHORITY_BASE_URL,
  DEFAULT_GRAPH_BASE_URL,
  ENTRA_CONNECTION_STATES,
  GRAPH_ADMIN_CONSENT_SCOPE,
  buildAdminConsentUrl,
  completeAdminConsent,
  entraConnectionSchema,
  loadEntraConnection,
  markEntraState,
  parseEntraConnection,
  parseTenantEntra,
  tenantEntraSchema,
  type AdminConsentUrlInput,
  type CompleteAdminConsentDeps,
  type CompleteAdminConsentInput,
  type CompleteAdminConsentResult,
  type EntraConnection,
  type EntraConnectionInput,
  type EntraConnectionState,
  type TenantEntra,
} from './entra-connection.js';
export { ENTRA_REMOVAL_REASON, entraSource, entraUserObject, type EntraSourceDeps } from './entra-source.js';
export { EntraError, isResyncRequired, type EntraErrorCode, type EntraErrorDetails } from './entra-error.js';
export {
  ClientCredentialsTokenProvider,
  GRAPH_DEFAULT_SCOPE,
  type AccessTokenSource,
} from './client-credentials-token.js';
export {
  EntraGraphClient,
  type DeltaPage,
  type DeltaUsersOptions,
  type EntraGraphClientOptions,
  type ListUsersOptions,
} from './entra-graph-client.js';
export type { GraphUser, RemovedUser } from './graph-schemas.js';
export {
  ENTRA_USER_SELECT,
  isGuest,
  mapGraphUser,
  type MappedGraphUser,
  type SkipReason,
} from './map-graph-user.js';
export { DEFAULT_RETRY, type RetryOptions } from './retry-policy.js';
