import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { PubSub } from '@google-cloud/pubsub';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { startEmulators, type RunningEmulators } from '../emulators/launcher/launcher.js';
import { GraphSimulatorControl, startGraphSimulator } from '../emulators/graph-simulator/index.js';
import { startSecretManagerEmulator } from '../emulators/secret-manager/index.js';
import { startWorkspaceSimulator } from '../emulators/workspace-simulator/index.js';
import { startSmtpMailbox, type RunningSmtpMailbox } from '../emulators/smtp-mailbox/index.js';
import { ensureLocalTopology } from '../infra/local-topology.js';
import { startLocalScheduler } from '../infra/local-scheduler.js';
import { createApp, setApp, type App } from '../functions/src/app.js';
import { guardServer } from '../functions/src/api/framework-guard.js';
import { loadConfig } from '../functions/src/platform/config.js';
import { createConsoleServer } from './static-server.js';
import { TOPICS } from '../shared/topology.js';
import { DEMO, LOCAL_HMAC_KEY, provisionDemoTenant, type DemoTenant } from './demo-tenant.js';

export { LOCAL_HMAC_KEY };

/** Fixed ports for `npm start` (the console's must match the OAuth redirect URI); tests use free ports. */
export const LOCAL_PORTS = {
  console: 5000,
  api: 8201,
  tick: 8202,
  syncEntity: 8203,
  deadLetter: 8204,
  deliverNotifications: 8205,
  smtp: 2525,
  simulator: 8190,
  graphSimulator: 8191,
  secretManager: 8195,
};

export interface LocalStackOptions {
  ports?: 'config' | 'auto';
  /** Provision and connect a demo tenant, with mappings, and run its first sync. */
  demo?: boolean;
  /** Workspace size for the demo. */
  demoSize?: { users: number; chromeos: number; mobile: number };
  /** Publish scheduler ticks at their cron times (off in tests: they trigger syncs explicitly). */
  scheduler?: boolean;
  /** Auto-approve Google consent (tests that want the consent page turn it off). */
  autoApprove?: boolean;
  log?: (line: string) => void;
  /** Use emulators that are already running (the test run's) instead of starting a pair. */
  emulators?: { FIRESTORE_EMULATOR_HOST: string; PUBSUB_EMULATOR_HOST: string };
}

export interface LocalStack {
  consoleUrl: string;
  apiUrl: string;
  simulatorUrl: string;
  /** Microsoft identity platform + Graph simulator: the service's Entra app is registered in it. */
  graphSimulatorUrl: string;
  projectId: string;
  env: Record<string, string>;
  app: App;
  demo: DemoTenant | null;
  /** The local SMTP server notification email goes to; tests read what it received. */
  mailbox: RunningSmtpMailbox;
  stop(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/**
 * Stops taking requests and lets those under way finish (a sync a push delivered, a burst's last answers), for at
 * most `graceMs`; then drops what is left. Firestore is terminated only after this (see the cleanups' order).
 */
function close(server: Server, graceMs = 15_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections?.(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections?.();
  });
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const auto = opts.ports === 'auto';
  const port = (name: keyof typeof LOCAL_PORTS) => (auto ? 0 : LOCAL_PORTS[name]);
  const log = opts.log ?? (() => {});
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  try {
    let emulators: Pick<RunningEmulators, 'env'>;
    if (opts.emulators) {
      emulators = { env: opts.emulators };
    } else {
      const started = await startEmulators({ ports: opts.ports ?? 'config' });
      cleanups.push(() => started.stop());
      emulators = started;
      log(
        `firestore ${started.env.FIRESTORE_EMULATOR_HOST}, pubsub ${started.env.PUBSUB_EMULATOR_HOST} (${started.mode})`,
      );
    }
    Object.assign(process.env, emulators.env);

    const sim = await startWorkspaceSimulator({
      port: port('simulator'),
      autoApprove: opts.autoApprove ?? true,
    });
    cleanups.push(() => sim.close());
    const graph = await startGraphSimulator({ port: port('graphSimulator') });
    cleanups.push(() => graph.close());
    const secrets = await startSecretManagerEmulator({ port: port('secretManager') });
    cleanups.push(() => secrets.close());
    const mailbox = await startSmtpMailbox({
      port: port('smtp'),
      onMail: (m) => log(`smtp: mail to ${m.to.join(', ')}: ${m.subject}`),
    });
    cleanups.push(() => mailbox.close());

    // The console's port goes into the OAuth redirect URI, so it listens before the app is configured.
    let apiUrl = '';
    const consoleServer = createConsoleServer(fileURLToPath(new URL('../console', import.meta.url)), {
      api: () => apiUrl,
    });
    const consolePort = await listen(consoleServer, port('console'));
    cleanups.push(() => close(consoleServer));
    const consoleUrl = `http://127.0.0.1:${consolePort}`;

    // The service's own multi-tenant Entra app registration, as an admin would create it in the Azure portal.
    const graphControl = new GraphSimulatorControl(graph.url);
    const entraRedirectUri = `${consoleUrl}/oauth/entra/callback`;
    const entraApp = await graphControl.registerApp({
      displayName: 'Workspace Sync (local)',
      redirectUris: [entraRedirectUri],
    });
    log(`graph simulator ${graph.url} (Entra app ${entraApp.clientId})`);

    const projectId = auto ? `demo-stack-${Math.random().toString(16).slice(2, 10)}` : 'demo-workspace-sync';
    const env: Record<string, string> = {
      GOOGLE_CLOUD_PROJECT: projectId,
      WORKSPACE_ENDPOINT: sim.url,
      SECRET_MANAGER_EMULATOR_HOST: secrets.host,
      OAUTH_REDIRECT_URI: `${consoleUrl}/oauth/callback`,
      CONSOLE_ORIGIN: consoleUrl,
      HOST_PRODUCT_HMAC_KEYS: `${LOCAL_HMAC_KEY.keyId}:${LOCAL_HMAC_KEY.secret}`,
      ENTRA_CLIENT_ID: entraApp.clientId,
      ENTRA_CLIENT_SECRET: entraApp.clientSecret,
      ENTRA_AUTHORITY_BASE_URL: graph.url,
      ENTRA_GRAPH_BASE_URL: graph.url,
      ENTRA_REDIRECT_URI: entraRedirectUri,
      METADATA_SERVER_DETECTION: 'none',
      // Notification email to the local SMTP server (no TLS there); webhooks may go to http://127.0.0.1.
      SMTP_HOST: mailbox.host,
      SMTP_PORT: String(mailbox.port),
      SMTP_SECURITY: 'none',
      NOTIFY_LOOPBACK_WEBHOOKS: 'true',
      ...emulators.env,
    };
    Object.assign(process.env, env);
    const app = createApp({ config: loadConfig(process.env) });
    // Registered before the servers, so it runs after they have closed (cleanups run last first).
    cleanups.push(async () => {
      await app.db.terminate();
      await app.pubsub.close();
    });
    setApp(app);
    await import('../functions/src/index.js');

    // functions/src/index.ts registers the functions; it is imported only once the environment is set.
    const servers = {
      api: getTestServer('api'),
      tick: getTestServer('tick'),
      syncEntity: getTestServer('syncEntity'),
      deadLetter: getTestServer('deadLetter'),
      deliverNotifications: getTestServer('deliverNotifications'),
    };
    // As functions/src/index.ts does in production: the api's server answers the framework's errors as JSON.
    guardServer(servers.api);
    const apiPort = await listen(servers.api, port('api'));
    const tickPort = await listen(servers.tick, port('tick'));
    const syncPort = await listen(servers.syncEntity, port('syncEntity'));
    const deadLetterPort = await listen(servers.deadLetter, port('deadLetter'));
    const notifyPort = await listen(servers.deliverNotifications, port('deliverNotifications'));
    for (const s of Object.values(servers)) cleanups.push(() => close(s));
    apiUrl = `http://127.0.0.1:${apiPort}`;

    const pubsub = new PubSub({ projectId });
    cleanups.push(() => pubsub.close());
    await ensureLocalTopology(pubsub, {
      // functions-framework reads the topic for the CloudEvent's source from this path, as on Cloud Run.
      pushEndpoints: {
        tick: `http://127.0.0.1:${tickPort}/projects/${projectId}/topics/${TOPICS.tick}`,
        syncEntity: `http://127.0.0.1:${syncPort}/projects/${projectId}/topics/${TOPICS.sync}`,
        deadLetter: `http://127.0.0.1:${deadLetterPort}/projects/${projectId}/topics/${TOPICS.deadLetter}`,
        deliverNotifications: `http://127.0.0.1:${notifyPort}/projects/${projectId}/topics/${TOPICS.notifications}`,
      },
    });
    if (opts.scheduler) {
      const scheduler = startLocalScheduler({ pubsub });
      cleanups.push(async () => scheduler.stop());
    }

    const demo = opts.demo
      ? await provisionDemoTenant({ app, simulatorUrl: sim.url, consoleUrl, size: opts.demoSize, log })
      : null;

    if (demo) {
      // The demo school's Entra directory, verified for its Google domain: "Connect Microsoft Entra" finds it.
      const directory = await graphControl.createTenant({
        domain: 'demo-school.onmicrosoft.com',
        displayName: DEMO.name,
        seed: 42,
        users: 25,
        overlapWith: { domain: DEMO.domain, emails: [demo.adminEmail] },
      });
      log(`graph simulator: Entra directory ${directory.domain} (${directory.tenantId})`);
    }

    return {
      consoleUrl,
      apiUrl,
      simulatorUrl: sim.url,
      graphSimulatorUrl: graph.url,
      projectId,
      env,
      app,
      demo,
      mailbox,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
