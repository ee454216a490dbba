import { invalidFieldSelection } from './errors.js';

/**
 * Google's partial-response selector (`fields=`):
 *   selection := path [ '(' selections ')' ]      path := name ( '/' name )*
 *   selections := selection ( ',' selection )*    `*` selects every field at its level.
 * e.g. `nextPageToken,users(id,name/givenName,emails)`.
 * A node maps field name -> sub-mask, where `null` means "the whole field".
 */
export type FieldMask = Map<string, FieldMask | null>;

const NAME_CHAR = /[A-Za-z0-9_$@#.\-*]/;

export function parseFieldMask(input: string): FieldMask {
  let pos = 0;
  const fail = (): never => {
    throw invalidFieldSelection(input);
  };

  const readName = (): string => {
    const start = pos;
    while (pos < input.length && NAME_CHAR.test(input[pos] as string)) pos++;
    if (pos === start) fail();
    return input.slice(start, pos);
  };

  const skipSpaces = () => {
    while (pos < input.length && input[pos] === ' ') pos++;
  };

  const parseSelections = (): FieldMask => {
    const mask: FieldMask = new Map();
    for (;;) {
      skipSpaces();
      const path = [readName()];
      while (input[pos] === '/') {
        pos++;
        path.push(readName());
      }
      let sub: FieldMask | null = null;
      if (input[pos] === '(') {
        pos++;
        sub = parseSelections();
        if (input[pos] !== ')') fail();
        pos++;
      }
      insert(mask, path, sub);
      skipSpaces();
      if (input[pos] === ',') {
        pos++;
        continue;
      }
      return mask;
    }
  };

  const mask = parseSelections();
  if (pos !== input.length) fail();
  return mask;
}

function insert(mask: FieldMask, path: readonly string[], leaf: FieldMask | null): void {
  const [head, ...rest] = path as [string, ...string[]];
  const existing = mask.get(head);
  if (rest.length === 0) {
    if (leaf === null || existing === null) mask.set(head, null);
    else mask.set(head, existing ? merge(existing, leaf) : leaf);
    return;
  }
  if (existing === null) return; // already selecting the whole field
  const child: FieldMask = existing ?? new Map();
  insert(child, rest, leaf);
  mask.set(head, child);
}

function merge(a: FieldMask, b: FieldMask): FieldMask {
  const out: FieldMask = new Map(a);
  for (const [k, v] of b) {
    const prev = out.get(k);
    if (prev === null || v === null) out.set(k, null);
    else out.set(k, prev ? merge(prev, v) : v);
  }
  return out;
}

export function applyFieldMask(value: unknown, mask: FieldMask): unknown {
  if (Array.isArray(value)) return value.map((v) => applyFieldMask(v, mask));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const star = mask.has('*') ? mask.get('*') : undefined;
  for (const [key, v] of Object.entries(value)) {
    let sub: FieldMask | null | undefined;
    if (mask.has(key)) sub = mask.get(key);
    else if (star !== undefined) sub = star;
    else continue;
    const selected = sub ? applyFieldMask(v, sub) : v;
    // Google leaves out objects whose selected sub-fields are all absent.
    if (
      sub &&
      selected &&
      typeof selected === 'object' &&
      !Array.isArray(selected) &&
      Object.keys(selected).length === 0
    ) {
      continue;
    }
    out[key] = selected;
  }
  return out;
}
