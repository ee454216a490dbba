export interface SyncCounts {
  seen: number;
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: number;
  skipped: number;
  outOfScope: number;
}

export const zeroCounts = (): SyncCounts => ({
  seen: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  removed: 0,
  failed: 0,
  skipped: 0,
  outOfScope: 0,
});

export function addCounts(a: SyncCounts, b: Partial<SyncCounts>): SyncCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as Array<keyof SyncCounts>) out[k] += b[k] ?? 0;
  return out;
}
