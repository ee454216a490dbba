import {
  ConfigError,
  loadConfig,
  type ApiSettings,
  type EntraServiceConfig,
  type RuntimeConfig,
} from '../platform/config.js';

/**
 * The API's view of the configuration: its own section plus the service's Entra app registration, which the
 * routes read as `ctx.api.entra`. Both are parsed and validated with everything else by platform/config.
 */
export type { EntraServiceConfig };

export interface ApiConfig extends ApiSettings {
  /** null when ENTRA_CLIENT_ID is unset: the Entra routes answer failed_precondition. */
  entra: EntraServiceConfig | null;
}

export function apiConfigOf(config: Pick<RuntimeConfig, 'api' | 'entra'>): ApiConfig {
  return { ...config.api, entra: config.entra };
}

/** Kept for callers that build the API's settings from an environment of their own (the API test harness). */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return apiConfigOf(loadConfig(env));
}

/** The one configuration error; the old name stays for callers that catch it. */
export const ApiConfigError = ConfigError;
export type ApiConfigError = ConfigError;
