import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { apiConfigOf, loadApiConfig } from '../../functions/src/api/api-config.js';
import { createApp } from '../../functions/src/app.js';
import {
  CONFIG_VARIABLES,
  ConfigError,
  envSchema,
  GOOGLE_ENDPOINTS,
  loadConfig,
  type RuntimeConfig,
} from '../../functions/src/platform/config.js';
import { setLogSink } from '../../functions/src/platform/log.js';
import { parseSecretStoreEnv, SecretStoreError } from '../../functions/src/secrets/index.js';

const ENTRA_APP = '0b5a3c1e-8f2d-4e6a-9c7b-1d2e3f4a5b6c';

const SAMPLE_ENV = {
  GOOGLE_CLOUD_PROJECT: 'acme-sync',
  WORKSPACE_ENDPOINT: 'http://127.0.0.1:9100/',
  GOOGLE_OAUTH_CLIENT_ID: 'acme.apps.googleusercontent.com',
  GOOGLE_OAUTH_CLIENT_SECRET: 'acme-oauth-secret',
  OAUTH_REDIRECT_URI: 'https://sync.acme.example/oauth/callback',
  SYNC_INVOCATION_BUDGET_MS: '300000',
  SYNC_LEASE_MS: '90000',
  SYNC_TENANT_QPM: '600',
  SYNC_BUDGET_WINDOW_MS: '30000',
  SYNC_BACKOFF_INITIAL_MS: '250',
  SYNC_BACKOFF_MAX_MS: '8000',
  SYNC_MAX_ATTEMPTS: '5',
  SYNC_PAGE_SIZE: '50',
  SYNC_LISTING_CONCURRENCY: '4',
  CONSOLE_ORIGIN: 'https://console.acme.example/app',
  HOST_PRODUCT_HMAC_KEYS: 'k1:0123456789abcdef, k2:fedcba9876543210',
  SIGNIN_REDIRECT_URI: 'https://sync.acme.example/api/auth/callback',
  SYNC_WEBHOOK_MAX_REQUESTS: '20',
  SYNC_WEBHOOK_WINDOW_SECONDS: '60',
  ENTRA_CLIENT_ID: ENTRA_APP,
  ENTRA_CLIENT_SECRET: 'entra-client-secret',
  ENTRA_AUTHORITY_BASE_URL: 'http://127.0.0.1:9200',
  ENTRA_GRAPH_BASE_URL: 'http://127.0.0.1:9201',
  ENTRA_REDIRECT_URI: 'https://sync.acme.example/oauth/entra/callback',
  SECRET_MANAGER_EMULATOR_HOST: ' 127.0.0.1:8085 ',
  LOG_LEVEL: 'debug',
};

describe('loadConfig', () => {
  // The write ramp's `auto` looks at the process's Firestore emulator too, which the test setup points at.
  beforeEach(() => vi.stubEnv('FIRESTORE_EMULATOR_HOST', ''));
  afterEach(() => vi.unstubAllEnvs());

  it('parses each section from one environment', () => {
    const config = loadConfig(SAMPLE_ENV);
    expect(config.projectId).toBe('acme-sync');
    expect(config.google.apiRoot).toBe('http://127.0.0.1:9100/');
    expect(config.google.tokenUrl).toBe('http://127.0.0.1:9100/token');
    expect(config.oauthClient).toEqual({
      clientId: 'acme.apps.googleusercontent.com',
      clientSecret: 'acme-oauth-secret',
      redirectUri: 'https://sync.acme.example/oauth/callback',
    });
    expect(config.sync).toEqual({
      invocationBudgetMs: 300_000,
      leaseMs: 90_000,
      tenantQpm: 600,
      budgetWindowMs: 30_000,
      backoff: { maxAttempts: 5, initialDelayMs: 250, maxDelayMs: 8000, multiplier: 2 },
      pageSize: 50,
      listingConcurrency: 4,
      writeRamp: true,
    });
    expect(config.api).toEqual({
      consoleOrigin: 'https://console.acme.example',
      hostProductKeys: new Map([
        ['k1', '0123456789abcdef'],
        ['k2', 'fedcba9876543210'],
      ]),
      signinRedirectUri: 'https://sync.acme.example/api/auth/callback',
      syncRateLimit: { maxRequests: 20, windowMs: 60_000 },
      session: { idleMs: 8 * 3600_000, maxMs: 7 * 86_400_000 },
    });
    expect(config.entra).toEqual({
      clientId: ENTRA_APP,
      clientSecret: 'entra-client-secret',
      authorityBaseUrl: 'http://127.0.0.1:9200',
      graphBaseUrl: 'http://127.0.0.1:9201',
      redirectUri: 'https://sync.acme.example/oauth/entra/callback',
    });
    expect(config.secrets).toEqual({ projectId: 'acme-sync', emulatorHost: '127.0.0.1:8085' });
    expect(config.log).toEqual({ level: 'DEBUG' });
  });

  it('falls back to the defaults for an empty environment', () => {
    const config: RuntimeConfig = loadConfig({});
    expect(config.projectId).toBe('demo-workspace-sync');
    expect(config.google).toBe(GOOGLE_ENDPOINTS);
    expect(config.sync).toEqual({
      invocationBudgetMs: 480_000,
      leaseMs: 120_000,
      tenantQpm: 1500,
      budgetWindowMs: 60_000,
      backoff: { maxAttempts: 8, initialDelayMs: 1000, maxDelayMs: 32_000, multiplier: 2 },
      listingConcurrency: 32,
      writeRamp: true,
    });
    expect(config.api.hostProductKeys.size).toBe(0);
    expect(config.api.signinRedirectUri).toBeNull();
    expect(config.entra).toBeNull();
    expect(config.secrets).toEqual({ projectId: 'demo-workspace-sync' });
    expect(config.log.level).toBe('INFO');
  });

  it('paces record writes by default, except against the Firestore emulator unless asked to', () => {
    const emulator = { FIRESTORE_EMULATOR_HOST: '127.0.0.1:8180' };
    expect(loadConfig({}).sync.writeRamp).toBe(true);
    expect(loadConfig(emulator).sync.writeRamp).toBe(false);
    expect(loadConfig({ ...emulator, SYNC_WRITE_RAMP: 'on' }).sync.writeRamp).toBe(true);
    expect(loadConfig({ SYNC_WRITE_RAMP: 'off' }).sync.writeRamp).toBe(false);
    expect(() => loadConfig({ SYNC_WRITE_RAMP: 'yes' })).toThrow(ConfigError);
  });

  it('treats empty optional variables as unset, as each did before', () => {
    const config = loadConfig({
      ENTRA_CLIENT_ID: '',
      ENTRA_REDIRECT_URI: '',
      SECRET_MANAGER_EMULATOR_HOST: '',
    });
    expect(config.entra).toBeNull();
    expect(config.secrets.emulatorHost).toBeUndefined();
  });

  it('names every invalid variable in one ConfigError', () => {
    const bad = {
      GOOGLE_CLOUD_PROJECT: 'Not A Project',
      WORKSPACE_ENDPOINT: 'not a url',
      GOOGLE_OAUTH_CLIENT_SECRET: '',
      SYNC_LEASE_MS: '-5',
      SYNC_MAX_ATTEMPTS: '21',
      CONSOLE_ORIGIN: 'console',
      HOST_PRODUCT_HMAC_KEYS: 'k1:short',
      SYNC_WEBHOOK_WINDOW_SECONDS: '0',
      ENTRA_CLIENT_ID: 'not-a-guid',
      SECRET_MANAGER_EMULATOR_HOST: 'localhost',
      LOG_LEVEL: 'verbose',
    };
    let thrown: unknown;
    try {
      loadConfig(bad);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    // The missing secret is reported with the rest, not after they are fixed.
    const expected = [...Object.keys(bad), 'ENTRA_CLIENT_SECRET'];
    expect(new Set(error.issues.map((i) => i.variable))).toEqual(new Set(expected));
    for (const variable of expected) expect(error.message).toContain(`${variable}: `);
    // Values are not echoed: some are secrets.
    expect(error.message).not.toContain('k1:short');
  });

  it('requires ENTRA_CLIENT_SECRET with ENTRA_CLIENT_ID, and only then', () => {
    expect(() => loadConfig({ ENTRA_CLIENT_ID: ENTRA_APP })).toThrow(
      /ENTRA_CLIENT_SECRET: required with ENTRA_CLIENT_ID/,
    );
    expect(() => loadConfig({ ENTRA_CLIENT_ID: ENTRA_APP, ENTRA_CLIENT_SECRET: '' })).toThrow(ConfigError);
    expect(loadConfig({ ENTRA_CLIENT_SECRET: 'orphan' }).entra).toBeNull();
  });
});

describe('createApp', () => {
  it('applies the log section to the logger it builds', async () => {
    const lines: string[] = [];
    setLogSink((line) => lines.push(line), 'DEBUG');
    // Nothing here connects: the clients are built, never called.
    const app = createApp({
      config: loadConfig({ LOG_LEVEL: 'warning', SECRET_MANAGER_EMULATOR_HOST: '127.0.0.1:1' }),
    });
    try {
      app.log.info('dropped');
      app.log.warn('kept');
      expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['kept']);
    } finally {
      await app.db.terminate();
      await app.pubsub.close();
    }
  });
});

describe('section wrappers kept for callers with an environment of their own', () => {
  it('loadApiConfig is the api section with the Entra registration', () => {
    expect(loadApiConfig(SAMPLE_ENV)).toEqual(apiConfigOf(loadConfig(SAMPLE_ENV)));
    expect(loadApiConfig(SAMPLE_ENV).entra?.clientId).toBe(ENTRA_APP);
  });

  it('parseSecretStoreEnv is the secrets section, with no default project', () => {
    expect(parseSecretStoreEnv(SAMPLE_ENV)).toEqual({
      GOOGLE_CLOUD_PROJECT: 'acme-sync',
      SECRET_MANAGER_EMULATOR_HOST: '127.0.0.1:8085',
    });
    expect(() => parseSecretStoreEnv({})).toThrow(SecretStoreError);
    expect(() => parseSecretStoreEnv({})).toThrow(/GOOGLE_CLOUD_PROJECT/);
  });
});

/** README.md's Configuration table: `| variable | section | default | meaning |`, one row per variable. */
function readmeConfigurationTable(): Array<{ variable: string; sections: string[]; default: string | null }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  return rows.map(([variable = '', sections = '', def = '']) => ({
    variable: variable.replace(/`/g, ''),
    sections: sections.split(',').map((s) => s.trim()),
    // `value` is a default; `""` the empty string; a dash: none.
    default: def === '—' ? null : def.replace(/^`(.*)`$/, '$1').replace(/^""$/, ''),
  }));
}

describe("README's configuration table", () => {
  const table = readmeConfigurationTable();
  // The input side: what an operator would write in the environment to get the default.
  const schemaDefaults = z.toJSONSchema(envSchema, { io: 'input', unrepresentable: 'any' }).properties ?? {};

  it('lists exactly the variables the schema reads', () => {
    expect(table.map((r) => r.variable).sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it("gives each variable the schema's default", () => {
    for (const row of table) {
      const property = schemaDefaults[row.variable] as { default?: unknown } | undefined;
      const expected = property?.default === undefined ? null : String(property.default);
      expect({ variable: row.variable, default: row.default }).toEqual({
        variable: row.variable,
        default: expected,
      });
    }
  });

  it('names only sections the configuration has', () => {
    const sections = new Set(Object.keys(loadConfig({})));
    for (const row of table) for (const s of row.sections) expect(sections).toContain(s);
  });
});
