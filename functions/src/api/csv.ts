/**
 * CSV for spreadsheet users (RFC 4180). Hand-written: the format is a dozen lines and no CSV writer is among the
 * project's dependencies (csv-stringify would be one more package for this); what matters is covered by
 * test/api/records-export.test.ts: quoting, CRLF rows, and the formula-injection guard.
 *
 * Formula injection: Excel, Sheets and LibreOffice run a cell that starts with `=`, `+`, `-`, `@` (or a tab or
 * carriage return before one) as a formula, so a synced value such as `=HYPERLINK(...)` in a user's title would
 * run on the admin's machine. Such a cell gets a leading `'` (OWASP's advice): the spreadsheet shows the text.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: null/undefined empty, objects as JSON, guarded against formulas, quoted when it must be. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Numbers and booleans are data, not formulas: -5 stays -5.
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows (and a header row, when given) as CSV text with CRLF line ends, as RFC 4180 writes them. */
export function csvDocument(
  header: readonly string[] | null,
  rows: ReadonlyArray<readonly unknown[]>,
): string {
  const lines = (header ? [header, ...rows] : rows).map((row) => row.map(csvCell).join(','));
  return lines.length ? `${lines.join('\r\n')}\r\n` : '';
}
