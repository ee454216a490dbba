/**
 * Serve the Workspace simulator from the command line.
 *   tsx emulators/workspace-simulator/cli.ts --port 8190 --demo
 * Options: --port N (default 8190, 0 = random), --host H, --demo (seed demo-school.example),
 *          --consent (show the consent page instead of auto-approving), --seed N (demo seed).
 */
import { parseArgs } from 'node:util';
import { SimulatorControl } from './control-client.js';
import { DEFAULT_OAUTH_CLIENT } from './oauth-state.js';
import { startWorkspaceSimulator } from './server.js';

const DEMO = { domain: 'demo-school.example', users: 250, chromeos: 120, mobile: 60 } as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8190' },
      host: { type: 'string', default: '127.0.0.1' },
      demo: { type: 'boolean', default: false },
      consent: { type: 'boolean', default: false },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: tsx emulators/workspace-simulator/cli.ts [--port 8190] [--host 127.0.0.1] [--demo] [--consent] [--seed N]',
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${values.port}`);

  const sim = await startWorkspaceSimulator({ port, host: values.host, autoApprove: !values.consent });
  console.log(`workspace simulator listening on ${sim.url}`);
  console.log(
    `  Directory API root: ${sim.url}/  (google.admin({ version: 'directory_v1', rootUrl: '${sim.url}/' }))`,
  );
  console.log(`  OAuth: ${sim.url}/o/oauth2/v2/auth  token: ${sim.url}/token  revoke: ${sim.url}/revoke`);
  console.log(`  OAuth client: ${DEFAULT_OAUTH_CLIENT.clientId} / ${DEFAULT_OAUTH_CLIENT.clientSecret}`);
  console.log(`  Control API: ${sim.url}/_control/ (workspaces, faults, stats, ...)`);

  if (values.demo) {
    const seed = values.seed === undefined ? undefined : Number(values.seed);
    const created = await new SimulatorControl(sim.url).createWorkspace({
      ...DEMO,
      ...(seed === undefined ? {} : { seed }),
    });
    console.log(
      `  demo workspace: ${created.domain} customerId=${created.customerId} admin=${created.adminEmail} ` +
        `(${DEMO.users} users, ${DEMO.chromeos} chromebooks, ${DEMO.mobile} mobiles)`,
    );
  }

  const shutdown = () => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
