import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The embedded default: real PostgreSQL (PGlite, compiled to WASM) running in-process with
 * its data on disk, exposed on a loopback socket so the same `pg` code path serves it.
 * PGlite is a single session, so the pool in front of it must hold one connection.
 */
export interface EmbeddedPostgres {
  connectionString: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * PGlite must be opened by one process at a time: a second opener (say the CLI while the server
 * runs) would corrupt the data. A lock file with the owner's pid guards the directory.
 */
function lockDataDir(dir: string): () => void {
  const lock = join(dir, 'hale.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw err;
      }
      const owner = Number(readFileSync(lock, 'utf8'));
      if (isAlive(owner)) {
        throw new Error(
          `The embedded database in ${dir} is in use by process ${owner} (a running Hale?). Stop it first, or set DATABASE_URL.`
        );
      }
      rmSync(lock, { force: true }); // left behind by a process that died
    }
  }
  throw new Error(`Could not lock the embedded database in ${dir}`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const unlock = lockDataDir(dir);
  // Loaded lazily: production deployments with DATABASE_URL never pay for the WASM module.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  let db: InstanceType<typeof PGlite>;
  let server: InstanceType<typeof PGLiteSocketServer>;
  try {
    db = await PGlite.create({ dataDir: join(dir, 'data') });
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
  } catch (err) {
    unlock();
    throw err;
  }
  const conn = server.getServerConn(); // host:port
  return {
    connectionString: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    dataDir: dir,
    async stop() {
      try {
        await server.stop();
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}
