import { parseArgs } from 'node:util';
import { GraphSimulatorControl, startGraphSimulator } from './index.js';

// `tsx emulators/graph-simulator/cli.ts --port 8191 --demo` runs until Ctrl-C; state lives in memory only.
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8191' },
    host: { type: 'string', default: '127.0.0.1' },
    demo: { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`graph-simulator: invalid --port ${values.port}`);
  process.exit(1);
}

const simulator = await startGraphSimulator({ port, host: values.host });
console.log(`GRAPH_SIMULATOR_URL=${simulator.url}`);

if (values.demo) {
  // Fixed ids so a demo configuration (console, scripts) can be written down once.
  const control = new GraphSimulatorControl(simulator.url);
  const app = await control.registerApp({
    clientId: '11111111-2222-4333-8444-555555555555',
    clientSecret: 'demo-secret-not-for-production',
    displayName: 'workspace-sync (demo)',
  });
  const tenant = await control.createTenant({
    tenantId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    domain: 'demo-school.onmicrosoft.com',
    seed: 42,
    users: 250,
    overlapWith: {
      domain: 'demo-school.example',
      emails: ['Alice.Martin@demo-school.example', 'bob.nguyen@demo-school.example'],
    },
    consentedClientIds: [app.clientId],
  });
  console.log(`demo tenant ${tenant.tenantId} (${tenant.domains.join(', ')}) with ${tenant.users} users`);
  console.log(`  authority/graph base URL: ${simulator.url}`);
  console.log(`  clientId ${app.clientId}, clientSecret ${app.clientSecret}`);
}

const shutdown = async () => {
  await simulator.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
