/** Counts the Firestore documents a sync reads and writes: the bill, and the benchmark's main figure. */
export class FirestoreMeter {
  reads = 0;
  recordWrites = 0;
  bookkeepingWrites = 0;

  get writes(): number {
    return this.recordWrites + this.bookkeepingWrites;
  }

  snapshot() {
    return { reads: this.reads, recordWrites: this.recordWrites, bookkeepingWrites: this.bookkeepingWrites };
  }
}
