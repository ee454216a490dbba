import { startEmulators, EmulatorSetupError } from './launcher.js';

// Standalone launcher: `npm run emulators` starts both emulators on the firebase.json ports until Ctrl-C
// (`--auto-ports` picks free ones, `--verbose` echoes emulator output).
const verbose = process.argv.includes('--verbose');
const ports = process.argv.includes('--auto-ports') ? 'auto' : 'config';
try {
  const running = await startEmulators({ ports, log: verbose ? (l) => console.log(l) : undefined });
  console.log(`emulators ready (${running.mode})`);
  for (const [k, v] of Object.entries(running.env)) console.log(`export ${k}=${v}`);
  const shutdown = async () => {
    await running.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
} catch (err) {
  if (err instanceof EmulatorSetupError) {
    console.error(`emulators: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
