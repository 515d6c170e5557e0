/** The PostgreSQL server the bench runs against: scratch databases and the server's version. */
import pg from 'pg';

export function databaseUrl(pgUrl: string, database: string): string {
  return `${pgUrl}/${database}`;
}

async function withAdmin<T>(pgUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(pgUrl, 'postgres'), application_name: 'hale-bench' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw new Error(`Not a safe database name: ${name}`);
  }
  return `"${name}"`;
}

export async function createDatabase(pgUrl: string, name: string): Promise<void> {
  await withAdmin(pgUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
}

/** Drops the database, ending any session still connected (e.g. a server that did not stop). */
export async function dropDatabase(pgUrl: string, name: string): Promise<void> {
  await withAdmin(pgUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

export async function postgresVersion(pgUrl: string): Promise<string> {
  return withAdmin(pgUrl, async (c) => {
    const { rows } = await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
    return rows[0]?.v ?? 'unknown';
  });
}

export async function postgresSettings(pgUrl: string, names: readonly string[]): Promise<Record<string, string>> {
  return withAdmin(pgUrl, async (c) => {
    const { rows } = await c.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[])`,
      [names]
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  });
}

/** ANALYZE, as autovacuum would after a bulk load; returns how long it took (ms). */
export async function analyzeDatabase(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: 'hale-bench' });
  await client.connect();
  try {
    const start = performance.now();
    await client.query('ANALYZE');
    return performance.now() - start;
  } finally {
    await client.end();
  }
}

/** Resources Hale holds (current versions, not deleted) and the size of its database. */
export async function storedResources(url: string): Promise<{ resources: number; databaseMb: number }> {
  const client = new pg.Client({ connectionString: url, application_name: 'hale-bench' });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string; bytes: string }>(
      `SELECT (SELECT count(*) FROM resource WHERE NOT deleted) AS n, pg_database_size(current_database()) AS bytes`
    );
    return { resources: Number(rows[0]?.n ?? 0), databaseMb: Number(rows[0]?.bytes ?? 0) / 1024 ** 2 };
  } finally {
    await client.end();
  }
}
