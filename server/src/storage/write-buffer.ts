import type { Queryable } from '../db/database';
import { flushStatement, runFlush } from './flush';
import type { PendingWrite } from './flush';
import type { PreparedVersion } from './prepare';
import { assertReferencesExist } from './references';

/**
 * Creates buffered inside one transaction. A full chunk is sent at once and not awaited, so
 * PostgreSQL inserts it while Node validates and indexes the next entries of the bundle (the
 * two used to take turns, each idle half the time). Chunks go one after the other on the
 * transaction's connection (never two queries at once on one client); `flush` waits for all.
 *
 * References of everything the transaction writes (these creates, and updates written beside the
 * buffer: noteWritten) are checked once, at `finish`, just before the commit: a reference to an
 * entry written later in the transaction (a later chunk, a PUT processed after the POSTs, a
 * conditional create resolved after the others were written) is then found like any other, and a
 * dangling one fails the transaction. A `flush` before a read or search inside the transaction
 * only writes; checking there would fail references to entries not written yet.
 */
/** Creates prepared between two looks at the connection while a chunk is being written (~1 ms of CPU). */
const YIELD_EVERY = 8;

export class WriteBuffer {
  /**
   * Versions per statement: large enough that a statement's fixed cost (~0.3 ms) is small, small
   * enough that the last one, which PostgreSQL writes after Node has prepared every entry, is
   * short. Since creates became plain INSERTs (flush-creates.ts) PostgreSQL writes a version about
   * as fast as Node prepares one, so that last chunk is most of what is left when the entries are
   * done. Measured, one bundle at a time, 7 interleaved pairs: chunks of 50 ~4% faster than 100.
   */
  static readonly CHUNK = 50;
  /**
   * The first chunks are smaller (12, 24, 48, then CHUNK): PostgreSQL starts inserting after
   * ~12 entries are prepared instead of a full chunk (~4 ms into a seed bundle). Measured, with
   * chunks of 100: one-at-a-time ingest ~5% faster than full chunks from the start.
   */
  static readonly FIRST_CHUNK = 12;

  private chunksSent = 0;

  private pending: Pick<PreparedVersion, 'write' | 'references'>[] = [];
  /** The chunks sent so far, chained: resolves when the last one is written, rejects with the first failure. */
  private sent: Promise<void> | undefined;
  private references: PreparedVersion['references'] = [];
  /** `Type/id` of what the transaction wrote since the last finish: references to these need no lookup. */
  private written = new Set<string>();
  private addsSinceYield = 0;
  /** `Type/id` this transaction found in the database (ifNoneExist matches): references to them need no lookup. */
  private readonly found = new Set<string>();

  constructor(
    private readonly tx: Queryable,
    private readonly afterWrite?: (versions: number) => void
  ) {}

  /**
   * Buffers a version. While a chunk is being written it now and then yields to the event loop:
   * a bundle's creates otherwise run back to back as microtasks, and the end of the chunk (and
   * so the start of the next) would only be seen once every entry is prepared.
   */
  async add(version: PreparedVersion): Promise<void> {
    this.pending.push(version);
    if (this.pending.length >= this.chunkSize()) {
      this.send();
    }
    if (this.sent && ++this.addsSinceYield >= YIELD_EVERY) {
      this.addsSinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Writes made elsewhere (the request's AuditEvents), sent with the next chunk; they hold no references to check. */
  addWrites(writes: readonly PendingWrite[]): void {
    for (const write of writes) {
      this.pending.push({ write, references: [] });
    }
  }

  /**
   * Notes resources this transaction has read and found to exist: references to them need no
   * second lookup at flush. (A delete committed by someone else in between would not be seen by
   * that lookup either: it too runs before our commit.) The caller must know that nothing in this
   * transaction deletes them.
   */
  noteFound(keys: Iterable<string>): void {
    for (const key of keys) {
      this.found.add(key);
    }
  }

  /** Everything added is in the database (in this transaction); or it throws. References are left to finish. */
  async flush(): Promise<void> {
    if (this.pending.length > 0) {
      this.send();
    }
    const sent = this.sent;
    this.sent = undefined;
    await sent;
  }

  /** Versions this transaction wrote without the buffer (updates): their references are checked at finish too. */
  noteWritten(versions: readonly PreparedVersion[]): void {
    for (const v of versions) {
      this.written.add(`${v.write.type}/${v.write.id}`);
      for (const r of v.references) {
        this.references.push(r);
      }
    }
  }

  /** flush, then every reference of what the transaction wrote resolves (to it, or to a stored resource); or it throws. */
  async finish(): Promise<void> {
    await this.flush();
    const references = this.references.filter((r) => !this.found.has(r.key));
    const written = this.written;
    this.references = [];
    this.written = new Set();
    await assertReferencesExist(this.tx, references, written);
  }

  /** Waits until no chunk is running, whatever their outcome: before a rollback on the same connection. */
  async settle(): Promise<void> {
    await this.sent?.catch(() => undefined);
  }

  private chunkSize(): number {
    return Math.min(WriteBuffer.CHUNK, WriteBuffer.FIRST_CHUNK * 2 ** this.chunksSent);
  }

  private send(): void {
    this.chunksSent++;
    const batch = this.pending;
    this.pending = [];
    for (const v of batch) {
      this.written.add(`${v.write.type}/${v.write.id}`);
      for (const r of v.references) {
        this.references.push(r);
      }
    }
    // The statement (its binary arrays) is built now, while PostgreSQL may still be inserting the
    // previous chunk, so that chunk's answer is followed at once by this one: building it after
    // the answer left PostgreSQL idle ~1 ms a chunk. It runs only after the previous one (never
    // two queries at once on one client); after a failed chunk the rest are not sent, since the
    // transaction is aborted anyway.
    const statement = flushStatement(
      this.tx,
      batch.map((v) => v.write)
    );
    const write = async (): Promise<void> => {
      await runFlush(this.tx, statement);
      this.afterWrite?.(batch.length);
    };
    const sent = this.sent ? this.sent.then(write) : write();
    sent.catch(() => undefined); // awaited (and rethrown) in flush; until then not an unhandled rejection
    this.sent = sent;
  }
}
