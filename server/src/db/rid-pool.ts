/**
 * Resource rids reserved ahead from `resource`'s identity sequence. A create-only flush that
 * names its rows' rids itself is a plain multi-table INSERT (storage/flush-creates.ts): PostgreSQL then
 * skips the speculative insertion of ON CONFLICT, the RETURNING and the joins that gave each
 * index row the rid of its resource, ~17% of the statement's time.
 *
 * Reserved rids that are never used leave gaps, as rolled-back inserts always have; rids are
 * identifiers, never counts. Blocks are reserved in the background on a pool connection, so a
 * request never waits for one: without enough rids in hand a flush takes the general statement.
 */
export class RidPool {
  private rids: number[] = [];
  private next = 0;
  private refilling = false;

  constructor(
    private readonly reserve: (count: number) => Promise<number[]>,
    private readonly block = 4000
  ) {}

  /** `count` unused rids, or undefined if fewer are in hand (a refill is then on its way). */
  take(count: number): number[] | undefined {
    const left = this.rids.length - this.next;
    if (left - count < this.block / 2) {
      this.refill();
    }
    if (left < count) {
      return undefined;
    }
    const taken = this.rids.slice(this.next, this.next + count);
    this.next += count;
    return taken;
  }

  private refill(): void {
    if (this.refilling) {
      return;
    }
    this.refilling = true;
    this.reserve(this.block)
      .then((more) => {
        this.rids = this.rids.slice(this.next).concat(more);
        this.next = 0;
      })
      // A failed reservation (the database restarting, the pool closing) only means the general
      // statement until the next try.
      .catch(() => undefined)
      .finally(() => {
        this.refilling = false;
      });
  }
}
