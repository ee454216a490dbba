import { invalidArgument } from '../grpc-support/rpc-error.js';

// Google's list filter language (https://cloud.google.com/secret-manager/docs/filtering) is much richer;
// the emulator understands the common subset: space- or AND-separated `field:value` (contains) and
// `field=value` (equals) terms, with `field:*` meaning "has the field".
interface Term {
  field: string;
  op: ':' | '=';
  value: string;
}

const TERM = /([A-Za-z_][\w.]*)\s*([:=])\s*("[^"]*"|[^\s"]+)/y;

function parseFilter(filter: string): Term[] {
  const terms: Term[] = [];
  let pos = 0;
  while (pos < filter.length) {
    const rest = filter.slice(pos);
    const skip = /^(\s+|AND\s+)/.exec(rest);
    if (skip) {
      pos += skip[0].length;
      continue;
    }
    TERM.lastIndex = pos;
    const match = TERM.exec(filter);
    const [whole, field, op, raw] = match ?? [];
    if (whole === undefined || field === undefined || raw === undefined || (op !== ':' && op !== '=')) {
      throw invalidArgument(`Invalid filter [${filter}]: unsupported syntax at [${rest}].`);
    }
    terms.push({ field, op, value: raw.startsWith('"') ? raw.slice(1, -1) : raw });
    pos += whole.length;
  }
  return terms;
}

export interface FilterFields<T> {
  /** Human-readable list for the error message, e.g. "name, labels.<key>". */
  description: string;
  supports(field: string): boolean;
  /** The field's value, or undefined when the item does not have it. */
  valueOf(item: T, field: string): string | undefined;
}

export function compileFilter<T>(filter: string | undefined, fields: FilterFields<T>): (item: T) => boolean {
  const terms = parseFilter(filter ?? '');
  const unsupported = terms.find((term) => !fields.supports(term.field));
  if (unsupported) {
    throw invalidArgument(
      `Unsupported filter field [${unsupported.field}]; the emulator supports ${fields.description}.`,
    );
  }
  return (item) =>
    terms.every(({ field, op, value }) => {
      const actual = fields.valueOf(item, field);
      if (actual === undefined) return false;
      if (op === '=') return actual === value;
      return value === '*' || actual.toLowerCase().includes(value.toLowerCase());
    });
}
