import { startLocalStack } from './local-stack.js';

// `npm start`: the whole local stack with a connected, synced demo tenant, until Ctrl-C.
const stack = await startLocalStack({
  ports: 'config',
  demo: true,
  scheduler: true,
  // People see the simulated Google consent page at each sign-in and connect; only tests auto-approve. The demo
  // tenant's own sign-in and connect are approved by its script (scripts/demo-tenant.ts).
  autoApprove: false,
  log: (l) => console.log(l),
}).catch((err: unknown) => {
  console.error(`local stack failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
console.log(`
workspace-sync is running
  console            ${stack.consoleUrl}   (sign in as ${stack.demo?.adminEmail ?? 'an admin of a simulated workspace'}: "Allow" on the simulated Google consent page)
  api                ${stack.apiUrl}
  workspace simulator ${stack.simulatorUrl}
  graph simulator    ${stack.graphSimulatorUrl}
  firestore emulator ${stack.env.FIRESTORE_EMULATOR_HOST}   project ${stack.projectId}
  pubsub emulator    ${stack.env.PUBSUB_EMULATOR_HOST}
Ctrl-C stops everything.`);
const shutdown = async () => {
  await stack.stop();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
