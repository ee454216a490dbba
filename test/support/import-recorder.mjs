// Records every module the ESM loader resolves, for test/foundation/import-graph.test.ts. `node --import` this
// file: it registers the hooks below (they run on the loader's thread) and keeps, on the main thread, the
// resolved URLs in globalThis.__importedUrls. CommonJS modules that CommonJS code requires never reach these
// hooks, but a package's entry imported from our ESM code does, and so does every module of ours.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const urls = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => urls.add(url));
port1.unref();
globalThis.__importedUrls = urls;

/**
 * Every URL resolved so far. Messages from the hook thread arrive asynchronously; resolving a marker goes
 * through the hooks synchronously, and the port delivers in order, so when the marker has arrived so has
 * everything resolved before it.
 */
globalThis.__importedSoFar = async () => {
  const marker = `node:path?import-recorder-marker=${Math.random()}`;
  import.meta.resolve(marker);
  while (!urls.has(marker)) await new Promise((r) => setImmediate(r));
  urls.delete(marker);
  return [...urls];
};

register('./import-recorder-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
