import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { expectIntact, faultRig } from './fault-hale';
import { IngestLoad } from './ingest-load';
import { canMountTmpfs, postgresBin } from './pg-cluster';

const withSmallDisk = postgresBin() && canMountTmpfs() ? describe : describe.skip;

/** Fills the file system holding `dir` with one file, to the last byte it takes; returns the file's path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1 << 20, 1);
  try {
    for (;;) {
      writeSync(fd, chunk);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') {
      throw err;
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

withSmallDisk("the database's disk fills up under load", () => {
  // 256 MiB: an initdb'd cluster and its WAL take about half; the rest is what the scenario fills.
  const rig = faultRig({}, { diskMb: 256 });

  test('writes and reads answer 503 (never 500), Hale stays up, and all is well once space is freed', async () => {
    const { cluster, hale } = rig;
    const target = { fhirBase: hale.fhirBase, token: hale.token };
    const load = new IngestLoad(() => target, { clients: 4, requestTimeoutMs: 20_000, name: 'full' });
    load.start();
    expect(await load.acknowledged(10, 60_000)).toBe(true);
    const before = load.answers.length;
    const filler = fillDisk(cluster.dir);
    const read = (): Promise<Response> =>
      fetch(`${hale.fhirBase}/Observation?_count=1`, { headers: { authorization: `Bearer ${hale.token}` } });
    const origin = new URL(hale.fhirBase).origin;
    const readsWhileFull: number[] = [];
    let alive = true;
    try {
      // Until the full disk has refused some writes: PostgreSQL either fails the statement (53100) or, when the WAL
      // cannot grow, stops altogether; both must reach clients as 503 with Retry-After.
      for (let i = 0; i < 120 && !load.answers.slice(before).some((a) => a.status === 503); i++) {
        await new Promise((r) => setTimeout(r, 500));
      }
      readsWhileFull.push((await read()).status);
      alive = (await fetch(`${origin}/livez`)).status === 200;
    } finally {
      unlinkSync(filler);
    }
    if (!cluster.running()) {
      cluster.start(); // an operator restarts PostgreSQL once the disk has room
    }
    expect(alive).toBe(true);
    expect(readsWhileFull.every((s) => s === 200 || s === 503)).toBe(true);
    const during = load.answers.slice(before);
    expect(during.some((a) => a.status === 503)).toBe(true);
    expect(during.filter((a) => a.status === 503).every((a) => a.retryAfter !== undefined)).toBe(true);
    expect(await load.acknowledged(10, 120_000)).toBe(true);
    await load.stop();
    expect(load.answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    expect((await read()).status).toBe(200);
    await expectIntact(cluster, load);
  }, 360_000);
});
