import { Firestore } from '@google-cloud/firestore';

/**
 * The one place a Firestore client is built. Everything outside `store/` holds it as an opaque `Db` and hands it
 * to store functions, so the document layout stays behind the store modules.
 */
export type { Firestore as Db, DocumentData, Timestamp, WriteBatch } from '@google-cloud/firestore';

export function openFirestore(projectId: string): Firestore {
  // Optional fields left undefined are dropped instead of failing the write (the API and the engine rely on it).
  return new Firestore({ projectId, ignoreUndefinedProperties: true });
}
