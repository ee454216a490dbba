/** mulberry32: tiny, fast, deterministic; fixtures only, never secrets. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('pick() from an empty list');
      return items[int(items.length)] as T;
    },
  };
}

/** FNV-1a, so a domain or tenant id can seed data that stays stable across runs. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const HEX = '0123456789abcdef';

/** A version-4 shaped GUID, which is what Entra object ids look like. */
export function randomGuid(rng: Rng): string {
  let h = '';
  for (let i = 0; i < 32; i++) h += HEX[rng.int(16)];
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(4)]}${h.slice(17, 20)}-${h.slice(20)}`;
}

export function randomDigits(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String(rng.int(10));
  return out;
}
