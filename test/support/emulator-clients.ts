import { randomBytes } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { inject } from 'vitest';

/** A project id of our own per test file keeps Firestore and Pub/Sub state from leaking between files. */
export function uniqueProjectId(label = 'test'): string {
  return `demo-${label.replace(/[^a-z0-9]/g, '').slice(0, 12)}-${randomBytes(4).toString('hex')}`;
}

export function emulatorEnv() {
  const env = inject('emulatorEnv');
  process.env.FIRESTORE_EMULATOR_HOST = env.FIRESTORE_EMULATOR_HOST;
  process.env.PUBSUB_EMULATOR_HOST = env.PUBSUB_EMULATOR_HOST;
  return env;
}

export function testFirestore(projectId: string): Firestore {
  emulatorEnv();
  return new Firestore({ projectId });
}

export function testPubSub(projectId: string): PubSub {
  emulatorEnv();
  return new PubSub({ projectId });
}

/** Clears one project's documents through the emulator's own admin endpoint. */
export async function clearFirestore(projectId: string): Promise<void> {
  const { FIRESTORE_EMULATOR_HOST } = emulatorEnv();
  const res = await fetch(
    `http://${FIRESTORE_EMULATOR_HOST}/emulator/v1/projects/${projectId}/databases/(default)/documents`,
    { method: 'DELETE' },
  );
  if (!res.ok) throw new Error(`clearing Firestore failed: ${res.status}`);
}
