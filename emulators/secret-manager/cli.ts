import { parseArgs } from 'node:util';
import { startSecretManagerEmulator } from './index.js';

// `tsx emulators/secret-manager/cli.ts --port 8195` runs until Ctrl-C; state lives in memory only.
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8195' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`secret-manager emulator: invalid --port ${values.port}`);
  process.exit(1);
}

const emulator = await startSecretManagerEmulator({ port, host: values.host });
console.log(`SECRET_MANAGER_EMULATOR_HOST=${emulator.host}`);

const shutdown = async () => {
  await emulator.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
