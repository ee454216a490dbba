/**
 * Tenant ids as points of a line, so a fan-out can cut "every tenant" into ranges without reading them first
 * (Firestore's partition queries would, but the emulator does not implement them). Ids sort as strings; a
 * string's first KEY_DIGITS characters are read as base-38 digits ('-', '0'-'9', 'a'-'z' are 1..37; 0 is "the
 * string ended", which sorts before every character), so numeric order agrees with string order up to that
 * precision. Cut points are strings: a cut need not be a tenant id, only something tenant ids sort around.
 */
const ALPHABET = '-0123456789abcdefghijklmnopqrstuvwxyz';
const BASE = BigInt(ALPHABET.length + 1);
const KEY_DIGITS = 10;
const SPACE = BASE ** BigInt(KEY_DIGITS);

function keyToPoint(key: string): bigint {
  let n = 0n;
  for (let i = 0; i < KEY_DIGITS; i++) {
    const ch = key[i];
    // Characters outside the alphabet do not occur in tenant ids; reading them as the highest digit keeps order.
    const digit = ch === undefined ? 0 : ALPHABET.indexOf(ch) + 1 || ALPHABET.length;
    n = n * BASE + BigInt(digit);
  }
  return n;
}

/** The longest string whose point is at most `point` (a 0 digit ends it). */
function pointToKey(point: bigint): string {
  const digits: number[] = [];
  let n = point;
  for (let i = 0; i < KEY_DIGITS; i++) {
    digits.unshift(Number(n % BASE));
    n /= BASE;
  }
  let key = '';
  for (const d of digits) {
    if (d === 0) break;
    key += ALPHABET[d - 1];
  }
  return key;
}

/** Keeps the cuts that lie strictly inside (from, to) and strictly increase; `to` undefined is the end. */
function inside(cuts: string[], from: string, to: string | undefined): string[] {
  const out: string[] = [];
  let previous = from;
  for (const cut of cuts) {
    if (cut > previous && (to === undefined || cut < to)) {
      out.push(cut);
      previous = cut;
    }
  }
  return out;
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

/**
 * Up to `parts - 1` cut points dividing [from, to) into ranges of equal width (fewer when the range is too
 * narrow to cut at this precision). `from` '' is the start and `to` undefined the end of all tenant ids. Widths
 * are measured after the prefix both ends share, so a range inside "school-district-" cuts as finely as any.
 */
export function splitKeyRange(from: string, to: string | undefined, parts: number): string[] {
  const prefix = to === undefined ? '' : commonPrefix(from, to);
  const lo = keyToPoint(from.slice(prefix.length));
  const hi = to === undefined ? SPACE : keyToPoint(to.slice(prefix.length));
  if (parts < 2 || hi <= lo) return [];
  const n = BigInt(parts);
  return inside(
    Array.from({ length: parts - 1 }, (_, i) => prefix + pointToKey(lo + ((hi - lo) * BigInt(i + 1)) / n)),
    from,
    to,
  );
}

/**
 * Cut points for what is left of a range after a page that went from tenant `first` to tenant `last`: the
 * page's width again and again (tenants tend to be as dense just past a page as in it), at most `parts - 1`
 * cuts, the last range running to `to`. A page inside one tenant (no width) halves the rest instead.
 */
export function continuationCuts(
  first: string,
  last: string,
  to: string | undefined,
  parts: number,
): string[] {
  const prefix = commonPrefix(first, last);
  const base = keyToPoint(last.slice(prefix.length));
  const width = base - keyToPoint(first.slice(prefix.length));
  if (width <= 0n) return splitKeyRange(last, to, 2);
  const cuts: string[] = [];
  for (let k = 1n; k < BigInt(parts) && base + width * k < SPACE; k++) {
    cuts.push(prefix + pointToKey(base + width * k));
  }
  return inside(cuts, last, to);
}
