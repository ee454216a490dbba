import { describe, expect, it } from 'vitest';
import { removalVerdict, reviewCandidates } from '../../functions/src/engine/decisions.js';

// The split of a pass's removal candidates by an admin's review (engine/run-ledger.ts completeRun).

describe('reviewCandidates', () => {
  const candidates = new Map([
    ['a', 'gone'],
    ['b', 'gone'],
    ['c', 'gone'],
    ['d', 'gone'],
  ]);

  it('without a review every candidate is judged by the threshold', () => {
    const r = reviewCandidates(candidates, { approvedIds: new Set(), excludedIds: new Set() });
    expect([...r.judged.keys()]).toEqual(['a', 'b', 'c', 'd']);
    expect(r.approved.size + r.excluded.size).toBe(0);
  });

  it('approves only what the reviewed run held, keeps the excluded, and an exclusion wins over an approval', () => {
    const r = reviewCandidates(candidates, {
      approvedIds: new Set(['a', 'b', 'x']),
      excludedIds: new Set(['b', 'c']),
    });
    expect([...r.approved.keys()]).toEqual(['a']);
    expect([...r.excluded.keys()]).toEqual(['b', 'c']);
    expect([...r.judged.keys()]).toEqual(['d']);
  });

  it('the threshold counts only what is left to judge', () => {
    const r = reviewCandidates(candidates, { approvedIds: new Set(['a', 'b', 'c']), excludedIds: new Set() });
    // One of ten records is 10 %: not over the threshold, although four are candidates.
    expect(removalVerdict(r.judged.size, 10, 10, false)).toMatchObject({ candidates: 1, held: false });
    expect(removalVerdict(candidates.size, 10, 10, false)).toMatchObject({ held: true });
  });
});
