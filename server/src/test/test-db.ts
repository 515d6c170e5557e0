import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  /** Connections the server may open (1 for the single-session embedded database). */
  poolSize?: number;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one test file: created on the PostgreSQL server named by
 * TEST_DATABASE_URL and dropped afterwards; without it, an embedded PGlite database in a
 * temporary directory (so `npm test` works on a machine with nothing installed).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    return embeddedTestDatabase();
  }
  const name = `hale_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** PGlite in a child process (see db/embedded-serve.ts); one connection, so the pool must hold one. */
async function embeddedTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'hale-test-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../db/embedded-serve.ts'), dir], {
    cwd: join(__dirname, '../../..'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /^ready (\S+)$/m.exec(output);
      if (m?.[1]) {
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited with ${code}: ${output}`)));
  });
  return {
    url,
    poolSize: 1,
    async drop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
