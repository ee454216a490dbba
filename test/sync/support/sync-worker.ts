import { createApp } from '../../../functions/src/app.js';
import { setLogSink } from '../../../functions/src/platform/log.js';
import { syncMessageSchema } from '../../../functions/src/engine/messages.js';
import { runSync } from '../../../functions/src/engine/engine.js';

/**
 * A sync invocation in a process of its own, configured from the environment like a deployed function, so a
 * test can SIGKILL it mid-run. Prints `page N` after each committed page.
 */
setLogSink(() => {}, 'ERROR');
const msg = syncMessageSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
const app = createApp();
await runSync(
  {
    ...app.syncDeps(),
    afterPageCommitted: ({ pageNo }) => {
      process.stdout.write(`page ${pageNo}\n`);
    },
  },
  msg,
);
process.stdout.write('done\n');
process.exit(0);
