import { afterAll, beforeAll } from 'vitest';
import {
  GraphSimulatorControl,
  startGraphSimulator,
  type AppRegistration,
  type CreateTenantInput,
  type TenantView,
} from '../../emulators/graph-simulator/index.js';
import {
  EntraGraphClient,
  parseEntraConnection,
  type EntraGraphClientOptions,
} from '../../functions/src/sources/entra/index.js';

/** Retries as in production, with delays small enough for a test (Retry-After is still honoured as sent). */
export const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 40, maxAttempts: 4 };

export interface GraphTestEnv {
  url: string;
  control: GraphSimulatorControl;
  app: AppRegistration;
  /** A fresh tenant with the test app already consented, on a domain unique to this simulator. */
  tenant(input?: Partial<CreateTenantInput>): Promise<TenantView>;
  client(tenantId: string, options?: EntraGraphClientOptions & { clientSecret?: string }): EntraGraphClient;
  token(tenantId: string): Promise<string>;
}

/** One simulator per test file, on a free port. */
export function useGraphSimulator(): GraphTestEnv {
  let url = '';
  let close: () => Promise<void> = async () => undefined;
  let control: GraphSimulatorControl | undefined;
  let app: AppRegistration | undefined;
  let domains = 0;

  beforeAll(async () => {
    const sim = await startGraphSimulator({ port: 0 });
    url = sim.url;
    close = sim.close;
    control = new GraphSimulatorControl(url);
    app = await control.registerApp({ displayName: 'workspace-sync tests' });
  });
  afterAll(() => close());

  const env: GraphTestEnv = {
    get url() {
      return url;
    },
    get control() {
      if (!control) throw new Error('simulator not started');
      return control;
    },
    get app() {
      if (!app) throw new Error('simulator not started');
      return app;
    },
    tenant: (input = {}) =>
      env.control.createTenant({
        domain: `school${++domains}.onmicrosoft.com`,
        users: 10,
        consentedClientIds: [env.app.clientId],
        ...input,
      }),
    client: (tenantId, { clientSecret, ...options } = {}) =>
      new EntraGraphClient(
        parseEntraConnection({
          tenantId,
          clientId: env.app.clientId,
          clientSecret: clientSecret ?? env.app.clientSecret,
          authorityBaseUrl: url,
          graphBaseUrl: url,
        }),
        { retry: FAST_RETRY, ...options },
      ),
    token: async (tenantId) => {
      const res = await fetch(`${url}/${tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: env.app.clientId,
          client_secret: env.app.clientSecret,
          scope: 'https://graph.microsoft.com/.default',
        }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!body.access_token) throw new Error(`token request failed: ${res.status}`);
      return body.access_token;
    },
  };
  return env;
}
