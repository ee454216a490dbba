import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const endpointSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
});

const firebaseJsonSchema = z.object({
  emulators: z
    .object({
      firestore: endpointSchema,
      pubsub: endpointSchema,
    })
    .passthrough(),
});

export interface Endpoint {
  host: string;
  port: number;
}

export interface EmulatorEndpoints {
  firestore: Endpoint;
  pubsub: Endpoint;
}

export const FIREBASE_JSON_PATH = fileURLToPath(new URL('../../firebase.json', import.meta.url));

/** Hosts and ports come from firebase.json so `firebase emulators:start` and the gcloud path agree. */
export function readEmulatorEndpoints(path = FIREBASE_JSON_PATH): EmulatorEndpoints {
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const parsed = firebaseJsonSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `${path}: emulators.firestore and emulators.pubsub need host/port: ${parsed.error.message}`,
    );
  }
  return { firestore: parsed.data.emulators.firestore, pubsub: parsed.data.emulators.pubsub };
}

export function hostPort(e: Endpoint): string {
  return `${e.host}:${e.port}`;
}
