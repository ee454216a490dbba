import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Major Java version on PATH (firebase-tools looks at PATH, not JAVA_HOME), or null without Java. */
export function javaMajorVersion(): number | null {
  // `java -version` writes to stderr; the "version" line is the same on OpenJDK and Oracle builds.
  const res = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (res.error) return null;
  return parseJavaVersion(`${res.stderr}${res.stdout}`);
}

export function parseJavaVersion(text: string): number | null {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  const major = Number(m[1]);
  // Java 8 and older report "1.8.0_x".
  return major === 1 && m[2] ? Number(m[2]) : major;
}

export interface GcloudEmulatorBinaries {
  firestore: string;
  pubsub: string;
}

const KNOWN_SDK_ROOTS = ['/usr/lib/google-cloud-sdk', '/usr/share/google-cloud-sdk', '/opt/google-cloud-sdk'];

function sdkRootCandidates(): string[] {
  const roots: string[] = [];
  if (process.env.CLOUDSDK_ROOT_DIR) roots.push(process.env.CLOUDSDK_ROOT_DIR);
  roots.push(...KNOWN_SDK_ROOTS);
  try {
    const fromGcloud = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 20_000,
    }).trim();
    if (fromGcloud) roots.unshift(fromGcloud);
  } catch {
    // No gcloud on PATH: the known roots above may still hold the components.
  }
  return roots;
}

/** The emulator launch scripts that the gcloud components `cloud-firestore-emulator` and `pubsub-emulator` install. */
export function findGcloudEmulatorBinaries(): GcloudEmulatorBinaries | null {
  for (const root of sdkRootCandidates()) {
    const firestore = join(root, 'platform/cloud-firestore-emulator/cloud_firestore_emulator');
    const pubsub = join(root, 'platform/pubsub-emulator/bin/cloud-pubsub-emulator');
    if (existsSync(firestore) && existsSync(pubsub)) return { firestore, pubsub };
  }
  return null;
}

export function findFirebaseCli(repoRoot: string): string | null {
  const local = join(repoRoot, 'node_modules/.bin/firebase');
  return existsSync(local) ? local : null;
}
