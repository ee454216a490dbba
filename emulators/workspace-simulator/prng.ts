/** A seeded pseudo-random source. mulberry32: tiny, fast and good enough for fixtures (not for secrets). */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Integer in [min, max] (inclusive). */
  range(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Next raw 32-bit unsigned value, handy for deriving child seeds. */
  uint32(): number;
}

export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  const uint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = () => uint32() / 4294967296;
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    uint32,
    range: (min, max) => min + int(max - min + 1),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('pick() from an empty list');
      return items[int(items.length)] as T;
    },
  };
}

/** FNV-1a: turns strings (domains, ids) into seeds so derived data stays stable across runs. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const DIGITS = '0123456789';
const UPPER_ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function fromAlphabet(rng: Rng, alphabet: string, length: number): string {
  // One flat string instead of `length` concatenations: seeding 200k users is allocation-bound.
  const codes = new Array<number>(length);
  for (let i = 0; i < length; i++) codes[i] = alphabet.charCodeAt(rng.int(alphabet.length));
  return String.fromCharCode(...codes);
}

export const randomAlnum = (rng: Rng, n: number) => fromAlphabet(rng, ALNUM, n);
export const randomHex = (rng: Rng, n: number) => fromAlphabet(rng, HEX, n);
export const randomDigits = (rng: Rng, n: number) => fromAlphabet(rng, DIGITS, n);
export const randomUpperAlnum = (rng: Rng, n: number) => fromAlphabet(rng, UPPER_ALNUM, n);
export const randomBase64Url = (rng: Rng, n: number) => fromAlphabet(rng, B64URL, n);

export function randomUuid(rng: Rng): string {
  const h = randomHex(rng, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(4)]}${h.slice(17, 20)}-${h.slice(20)}`;
}
