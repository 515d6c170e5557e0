import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

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

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  // Loaded lazily: production deployments with DATABASE_URL never pay for the WASM module.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create({ dataDir: dir });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const conn = server.getServerConn(); // host:port
  return {
    connectionString: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    dataDir: dir,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
