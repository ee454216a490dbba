import type { TestProject } from 'vitest/node';
import { startEmulators } from '../../emulators/launcher/launcher.js';

// One pair of real emulators for the whole run, on free ports so a running `npm start` does not clash.
// Each test file isolates itself with its own project id (see ./emulator-clients.ts).
export default async function setup(project: TestProject) {
  // The Google clients otherwise probe for a GCE metadata server that does not exist here.
  process.env.METADATA_SERVER_DETECTION = 'none';
  const running = await startEmulators({
    ports: 'auto',
    log: process.env.EMULATOR_LOGS ? console.log : undefined,
  });
  Object.assign(process.env, running.env);
  project.provide('emulatorEnv', running.env);
  return async () => {
    await running.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    emulatorEnv: { FIRESTORE_EMULATOR_HOST: string; PUBSUB_EMULATOR_HOST: string };
  }
}
