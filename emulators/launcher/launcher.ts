import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  readEmulatorEndpoints,
  hostPort,
  FIREBASE_JSON_PATH,
  type EmulatorEndpoints,
} from './emulator-config.js';
import { findFirebaseCli, findGcloudEmulatorBinaries, javaMajorVersion } from './toolchain.js';

const SUPERVISOR = fileURLToPath(new URL('./supervise.sh', import.meta.url));
const REPO_ROOT = dirname(FIREBASE_JSON_PATH);
const FIREBASE_MIN_JAVA = 21;
const DEMO_PROJECT = 'demo-workspace-sync';

export type LaunchMode = 'firebase' | 'gcloud';

export interface LaunchOptions {
  /** 'config' uses firebase.json; 'auto' picks free ports so tests can run beside a running `npm start`. */
  ports?: 'config' | 'auto';
  /** Force a mode; by default firebase-tools when Java >= 21, else the gcloud emulator binaries. */
  mode?: LaunchMode;
  log?: (line: string) => void;
  healthTimeoutMs?: number;
}

export interface RunningEmulators {
  mode: LaunchMode;
  endpoints: EmulatorEndpoints;
  env: { FIRESTORE_EMULATOR_HOST: string; PUBSUB_EMULATOR_HOST: string };
  stop(): Promise<void>;
}

export class EmulatorSetupError extends Error {}

export function chooseMode(javaMajor: number | null, hasGcloud: boolean, hasFirebase: boolean): LaunchMode {
  if (javaMajor === null) {
    throw new EmulatorSetupError(
      'No Java runtime found. The Firestore and Pub/Sub emulators run on Java: install a JRE ' +
        '(Debian: `apt-get install openjdk-17-jre-headless`, or Java 21+ for firebase-tools 15).',
    );
  }
  if (javaMajor >= FIREBASE_MIN_JAVA && hasFirebase) return 'firebase';
  if (hasGcloud) return 'gcloud';
  throw new EmulatorSetupError(
    `Java ${javaMajor} found, but ${hasFirebase ? `firebase-tools 15 needs Java >= ${FIREBASE_MIN_JAVA}` : 'firebase-tools is not installed (run `npm ci`)'} ` +
      'and the gcloud emulator components are missing. Install Java 21+ or ' +
      '`gcloud components install cloud-firestore-emulator pubsub-emulator` ' +
      '(Debian: `apt-get install google-cloud-cli-firestore-emulator google-cloud-cli-pubsub-emulator`).',
  );
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, host, () => srv.close(() => resolve(false)));
  });
}

/** Both Google emulators answer `GET /` with "Ok" once they accept requests. */
async function answersOk(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${endpoint}/`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

interface Child {
  name: string;
  proc: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

function startSupervised(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (l: string) => void,
): Child {
  const proc = spawn(SUPERVISOR, [String(process.pid), command, ...args], {
    env,
    detached: true, // own process group, so stop() can signal the JVM grandchildren too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const onData = (buf: Buffer) => {
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 200) output.shift();
      log(`[${name}] ${line}`);
    }
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { name, proc, output, exited };
}

async function killGroup(child: Child, graceMs = 5000): Promise<void> {
  const pid = child.proc.pid;
  if (pid === undefined || child.proc.exitCode !== null) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // group already gone
    }
  };
  signal('SIGTERM');
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  if ((await Promise.race([child.exited, timer])) === 'timeout') signal('SIGKILL');
  // The JVMs may outlive the supervisor by a moment; a final group-wide SIGKILL catches stragglers.
  signal('SIGKILL');
}

async function waitHealthy(children: Child[], endpoints: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(endpoints);
  while (pending.size > 0) {
    for (const child of children) {
      if (child.proc.exitCode !== null) {
        throw new EmulatorSetupError(
          `${child.name} exited with code ${child.proc.exitCode} before answering:\n${child.output.slice(-20).join('\n')}`,
        );
      }
    }
    for (const e of [...pending]) if (await answersOk(e)) pending.delete(e);
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      throw new EmulatorSetupError(
        `emulators did not answer within ${timeoutMs} ms: ${[...pending].join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A firebase.json with the chosen ports, because firebase-tools takes ports only from its config file. */
function writeFirebaseConfig(endpoints: EmulatorEndpoints): string {
  const dir = mkdtempSync(join(tmpdir(), 'ws-emulators-'));
  const base = JSON.parse(readFileSync(FIREBASE_JSON_PATH, 'utf8')) as Record<string, unknown>;
  const rulesPath = join(REPO_ROOT, 'infra/firestore.rules');
  const config = {
    firestore: { rules: rulesPath },
    emulators: {
      ...(base.emulators as object),
      firestore: endpoints.firestore,
      pubsub: endpoints.pubsub,
      ui: { enabled: false },
    },
  };
  const file = join(dir, 'firebase.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export async function startEmulators(opts: LaunchOptions = {}): Promise<RunningEmulators> {
  const log = opts.log ?? (() => {});
  const configured = readEmulatorEndpoints();
  const endpoints: EmulatorEndpoints =
    opts.ports === 'auto'
      ? {
          firestore: { host: configured.firestore.host, port: await freePort(configured.firestore.host) },
          pubsub: { host: configured.pubsub.host, port: await freePort(configured.pubsub.host) },
        }
      : configured;
  for (const [name, e] of Object.entries(endpoints)) {
    if (await portInUse(e.host, e.port)) {
      throw new EmulatorSetupError(
        `${name} port ${hostPort(e)} is already in use (another emulator running?)`,
      );
    }
  }

  const gcloud = findGcloudEmulatorBinaries();
  const firebaseCli = findFirebaseCli(REPO_ROOT);
  const mode = opts.mode ?? chooseMode(javaMajorVersion(), gcloud !== null, firebaseCli !== null);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Never let emulators inherit a pointer to another emulator instance.
  delete env.FIRESTORE_EMULATOR_HOST;
  delete env.PUBSUB_EMULATOR_HOST;

  const children: Child[] = [];
  let configFile: string | null = null;
  if (mode === 'firebase') {
    if (!firebaseCli) throw new EmulatorSetupError('firebase-tools is not installed: run `npm ci`.');
    if (gcloud) {
      // Reuse the locally installed emulator builds instead of downloading them.
      env.FIRESTORE_EMULATOR_BINARY_PATH = gcloud.firestore;
      env.PUBSUB_EMULATOR_BINARY_PATH = gcloud.pubsub;
    }
    configFile = writeFirebaseConfig(endpoints);
    children.push(
      startSupervised(
        'firebase',
        firebaseCli,
        ['emulators:start', '--only', 'firestore,pubsub', '--project', DEMO_PROJECT, '--config', configFile],
        env,
        log,
      ),
    );
  } else {
    if (!gcloud) throw new EmulatorSetupError('gcloud emulator components not found.');
    children.push(
      startSupervised(
        'firestore',
        gcloud.firestore,
        ['start', `--host=${endpoints.firestore.host}`, `--port=${endpoints.firestore.port}`],
        env,
        log,
      ),
      startSupervised(
        'pubsub',
        gcloud.pubsub,
        [`--host=${endpoints.pubsub.host}`, `--port=${endpoints.pubsub.port}`],
        env,
        log,
      ),
    );
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map((c) => killGroup(c)));
    if (configFile) rmSync(dirname(configFile), { recursive: true, force: true });
  };

  try {
    await waitHealthy(
      children,
      [hostPort(endpoints.firestore), hostPort(endpoints.pubsub)],
      opts.healthTimeoutMs ?? 90_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    mode,
    endpoints,
    env: {
      FIRESTORE_EMULATOR_HOST: hostPort(endpoints.firestore),
      PUBSUB_EMULATOR_HOST: hostPort(endpoints.pubsub),
    },
    stop,
  };
}
