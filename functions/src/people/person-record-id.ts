import { recordIdFor } from '../engine/record-id.js';
import { normalizeEmail } from './normalize-email.js';

/** The document id of a merged person: their normalized email, as every source computes it. */
export function personRecordId(email: string): string {
  return recordIdFor('primaryEmail', normalizeEmail(email));
}
