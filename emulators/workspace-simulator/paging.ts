import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Keyset paging: a page token remembers the (sort key, id) of the last item served, so inserts and deletes
 * between pages never duplicate or skip untouched items — the property a sync engine relies on.
 */
export interface SortedView<T> {
  readonly items: readonly T[];
  keyAt(index: number): string;
  idAt(index: number): string;
  readonly descending: boolean;
}

export interface Cursor {
  key: string;
  id: string;
}

function compareKeyId(aKey: string, aId: string, bKey: string, bId: string): number {
  if (aKey !== bKey) return aKey < bKey ? -1 : 1;
  if (aId !== bId) return aId < bId ? -1 : 1;
  return 0;
}

/** A view over a list already sorted by id (no copy: it follows in-place inserts and removals). */
export function idOrderView<T>(items: readonly T[], idOf: (item: T) => string): SortedView<T> {
  return { items, keyAt: () => '', idAt: (i) => idOf(items[i] as T), descending: false };
}

/** Inserts into a list kept sorted by id (binary search), so id-order views never need a re-sort. */
export function insertSorted<T>(list: T[], item: T, idOf: (t: T) => string): void {
  const id = idOf(item);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (idOf(list[mid] as T) < id) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, item);
}

export function removeSorted<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

export function buildSortedView<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  idOf: (item: T) => string,
  descending: boolean,
): SortedView<T> {
  const keys = items.map(keyOf);
  const ids = items.map(idOf);
  const order = Array.from({ length: items.length }, (_, i) => i);
  order.sort((a, b) =>
    compareKeyId(keys[a] as string, ids[a] as string, keys[b] as string, ids[b] as string),
  );
  if (descending) order.reverse();
  const sortedItems = order.map((i) => items[i] as T);
  const sortedKeys = order.map((i) => keys[i] as string);
  const sortedIds = order.map((i) => ids[i] as string);
  return {
    items: sortedItems,
    keyAt: (i) => sortedKeys[i] ?? '',
    idAt: (i) => sortedIds[i] ?? '',
    descending,
  };
}

/** Index of the first element strictly after `cursor` in the view's direction (binary search). */
export function indexAfter<T>(view: SortedView<T>, cursor: Cursor | undefined): number {
  if (!cursor) return 0;
  const sign = view.descending ? -1 : 1;
  let lo = 0;
  let hi = view.items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = sign * compareKeyId(view.keyAt(mid), view.idAt(mid), cursor.key, cursor.id);
    if (cmp <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Page<T> {
  items: T[];
  /** Cursor for the next page, present only when another matching item exists. */
  next: Cursor | undefined;
}

export function takePage<T>(
  view: SortedView<T>,
  cursor: Cursor | undefined,
  matches: (item: T) => boolean,
  pageSize: number,
): Page<T> {
  const items: T[] = [];
  let lastIndex = -1;
  for (let i = indexAfter(view, cursor); i < view.items.length; i++) {
    const item = view.items[i] as T;
    if (!matches(item)) continue;
    if (items.length === pageSize) {
      // One more match exists beyond this page, so there is a next page.
      return { items, next: { key: view.keyAt(lastIndex), id: view.idAt(lastIndex) } };
    }
    items.push(item);
    lastIndex = i;
  }
  return { items, next: undefined };
}

export interface PageTokenPayload {
  /** Resource collection, e.g. `users`. */
  r: string;
  /** Customer id the listing belongs to. */
  c: string;
  /** Ordering descriptor (orderBy + direction + deleted flag); a token is only valid for the same ordering. */
  o: string;
  k: string;
  i: string;
  /** Issue time, ms since epoch. */
  t: number;
}

const TOKEN_VERSION = 0x02;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Opaque, tamper-evident page tokens: the cursor is sealed with AES-256-GCM, so clients cannot read or forge
 * them (as with Google's), and a garbled token fails authentication instead of paging from a random place.
 */
export class PageTokenCodec {
  constructor(private readonly key: Buffer) {}

  encode(payload: PageTokenPayload): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(TOKEN_VERSION), iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  decode(token: string): PageTokenPayload | undefined {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length <= 1 + IV_BYTES + TAG_BYTES || raw[0] !== TOKEN_VERSION) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 1 + IV_BYTES));
      decipher.setAuthTag(raw.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(raw.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
      const parsed = JSON.parse(plain.toString('utf8')) as PageTokenPayload;
      if (typeof parsed.k !== 'string' || typeof parsed.i !== 'string' || typeof parsed.t !== 'number')
        return undefined;
      return parsed;
    } catch {
      return undefined;
    }
  }
}
