import { createHash } from 'node:crypto';

const MAX_ID_BYTES = 700;

/**
 * Firestore document id for a record, readable where possible (an email, a serial number) so support staff can
 * find a record, and always valid: no "/", not "." or "..", not "__x__", at most 1,500 bytes.
 */
export function recordIdFor(identifierField: string, value: string): string {
  const normalized = identifierField === 'primaryEmail' ? value.trim().toLowerCase() : value.trim();
  const encoded = encodeURIComponent(normalized).replace(/\./g, '%2E').replace(/_/g, '%5F');
  if (encoded.length > 0 && Buffer.byteLength(encoded) <= MAX_ID_BYTES) return encoded;
  return `h_${createHash('sha256').update(normalized).digest('hex')}`;
}

/**
 * The identifier value a record id stands for, or null when the id is a hash (too long to be readable). The
 * inverse of recordIdFor up to its normalization (a primaryEmail comes back lower-cased).
 */
export function identifierOfRecordId(recordId: string): string | null {
  if (recordId.startsWith('h_')) return null;
  try {
    return decodeURIComponent(recordId);
  } catch {
    return null;
  }
}
