import { parseArgs } from 'node:util';
import { startCloudSchedulerEmulator } from './index.js';

// tsx emulators/cloud-scheduler/cli.ts [--port 8190] [--host 127.0.0.1]
const { values } = parseArgs({
  options: { port: { type: 'string', default: '8190' }, host: { type: 'string', default: '127.0.0.1' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be 0-65535, got ${values.port}`);
  process.exit(2);
}
const emulator = await startCloudSchedulerEmulator({ port, host: values.host });
console.log(`Cloud Scheduler emulator listening; export CLOUD_SCHEDULER_EMULATOR_HOST=${emulator.host}`);
const shutdown = () => void emulator.close().then(() => process.exit(0));
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
