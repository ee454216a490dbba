/**
 * The merge key. Only trims, applies Unicode NFC and lower-cases: both Google and Entra treat the whole address
 * case-insensitively, and anything cleverer (dropping Gmail dots, `+tags`) would merge people who are different
 * accounts in the source.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFC').trim().toLowerCase();
}
