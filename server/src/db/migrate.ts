import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from './database';
import { Sql, sql } from './sql';

const MIGRATIONS_DIR = join(__dirname, 'migrations');

interface Migration {
  version: number;
  name: string;
  text: string;
}

function listMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 4)),
      name: f.replace(/\.sql$/, ''),
      text: readFileSync(join(MIGRATIONS_DIR, f), 'utf8'),
    }));
}

/**
 * Applies the versioned, append-only migrations that have not run yet, each in its own
 * transaction under an advisory lock, so several processes starting at once are safe and a
 * second run is a no-op. Returns the names applied.
 */
export async function migrate(db: Database): Promise<string[]> {
  const applied: string[] = [];
  await db.query(sql`CREATE TABLE IF NOT EXISTS hale_migration (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  for (const m of listMigrations()) {
    const ran = await db.transaction(async (tx) => {
      await tx.query(sql`SELECT pg_advisory_xact_lock(7220431)`);
      const done = await tx.query(sql`SELECT 1 FROM hale_migration WHERE version = ${m.version}`);
      if (done.length > 0) {
        return false;
      }
      // A migration may rebuild an index or backfill a table of millions of rows: no statement timeout.
      await tx.query(sql`SET LOCAL statement_timeout = 0`);
      // Migration files are trusted text shipped with Hale, so they run as written.
      await tx.query(new Sql([m.text], []));
      await tx.query(sql`INSERT INTO hale_migration (version, name) VALUES (${m.version}, ${m.name})`);
      return true;
    });
    if (ran) {
      applied.push(m.name);
    }
  }
  return applied;
}
