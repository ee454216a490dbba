import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../api/api-error.js';
import { RetryLaterError, runSync, type EngineDeps } from '../engine/engine.js';
import type { SyncMessage } from '../engine/messages.js';
import type { PushDeps } from './push-deps.js';
import { receiveGoogleNotification, type NotificationOutcome } from './receiver.js';

/**
 * The push path in one process, for tests and the benchmark: an HTTP receiver (the same receiveGoogleNotification
 * as POST /api/push/google) whose sync requests run the engine right here instead of going through Pub/Sub.
 * A request that finds a run in progress (RetryLaterError) is tried again shortly, as Pub/Sub would.
 *
 * Measuring push latency (change in the simulator -> record in Firestore): start this with
 * PUSH_RECEIVER_URL set to its url (listen on a fixed port, or start it first and build the app after), open
 * the channels with reconcilePushChannels, change users through the simulator's control API and poll the
 * records; `idle()` resolves when every notification so far has been received and every run it started ended.
 */
export interface InProcessPushReceiver {
  url: string;
  /** Every notification as the receiver judged it (status 200 with its outcome, or the 4xx/5xx it answered). */
  received: Array<{ status: number; outcome?: NotificationOutcome; error?: string }>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface InProcessOptions {
  /** Built lazily: the app's config needs this receiver's url first. */
  deps(): { push: Omit<PushDeps, 'publishSync'>; engine: EngineDeps };
  port?: number;
  host?: string;
  retryDelayMs?: number;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startInProcessPushReceiver(opts: InProcessOptions): Promise<InProcessPushReceiver> {
  const pending = new Set<Promise<unknown>>();
  const received: InProcessPushReceiver['received'] = [];
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.catch(() => undefined).finally(() => pending.delete(p));
  };
  // Like Pub/Sub: a delivery that throws (a run in progress elsewhere, a contended transaction) comes again.
  const runUntilDone = async (engine: EngineDeps, msg: SyncMessage): Promise<void> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        await runSync(engine, msg);
        return;
      } catch (err) {
        engine.log.info('in-process push delivery failed; delivering again', { error: String(err) });
        const delay = err instanceof RetryLaterError ? (opts.retryDelayMs ?? 50) : 200;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  const server = createServer((req, res) => {
    const work = (async () => {
      const raw = await readBody(req);
      const { push, engine } = opts.deps();
      let body: unknown;
      try {
        body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as unknown) : undefined;
      } catch {
        body = undefined;
      }
      try {
        const outcome = await receiveGoogleNotification(
          {
            ...push,
            publishSync: async (msg) => {
              const continued = (m: SyncMessage) => track(runUntilDone(engine, m));
              // Continuations (hand-overs) the engine publishes run here too.
              track(runUntilDone({ ...engine, publishSync: async (m) => continued(m) }, msg));
            },
          },
          { header: (name) => headerOf(req, name), body },
        );
        received.push({ status: 200, outcome });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        const status = err instanceof ApiError ? err.status : 500;
        received.push({ status, error: String(err) });
        res
          .writeHead(status, { 'content-type': 'application/json' })
          .end(JSON.stringify(err instanceof ApiError ? err.toBody() : { error: { code: 'internal' } }));
      }
    })();
    track(work);
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}/api/push/google`,
    received,
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
