#!/usr/bin/env node
// Smoke test of the embedded default: start Hale with no DATABASE_URL (PGlite on disk),
// create and read a Patient over HTTP, search it, stop with SIGTERM, then start again and
// read the same Patient (the data is on disk). Exits non-zero on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dataDir = mkdtempSync(join(tmpdir(), 'hale-smoke-'));
const port = String(18000 + Math.floor(Math.random() * 2000));
const base = `http://127.0.0.1:${port}/fhir/R4`;

function environment() {
  const env = {
    ...process.env,
    PORT: port,
    EMBEDDED_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ACCESS_TOKEN_TTL_SECONDS: '3600',
  };
  delete env.DATABASE_URL;
  return env;
}

/** `npm run hale -- …` as a user would run it (node directly, same as the npm script). */
function cli(...args) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'server/src/cli.ts', ...args], {
    env: environment(),
    encoding: 'utf8',
  });
}

function start() {
  const env = environment();
  // Node directly (not through npm) so SIGTERM reaches Hale's own shutdown handler.
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${output}`)), 60000);
    const onData = (d) => {
      output += d;
      if (output.includes('Hale FHIR server ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (c) => reject(new Error(`server exited with ${c}:\n${output}`)));
  });
  return { child, ready, output: () => output };
}

async function stop(server) {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0 && code !== null) {
    throw new Error(`server exited with ${code} after SIGTERM`);
  }
}

function check(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

let server;
try {
  // The embedded database belongs to one process at a time: mint the token before starting.
  const minted = cli('token', '--scope', 'system/*.cruds');
  check(minted.status === 0, `token command failed: ${minted.stderr}`);
  const auth = { authorization: `Bearer ${JSON.parse(minted.stdout).access_token}` };
  server = start();
  await server.ready;
  check(server.output().includes('EMBEDDED'), 'the embedded-database warning was not logged');
  const busy = cli('user', 'list');
  check(
    busy.status !== 0 && busy.stderr.includes('in use by process'),
    `CLI opened the database the server holds: ${busy.stderr}`
  );
  check((await fetch(`${base}/Patient`)).status === 401, 'the FHIR API answered without a token');
  const health = await (await fetch(`http://127.0.0.1:${port}/healthcheck`)).json();
  check(health.ok === true && health.database === 'embedded', `healthcheck: ${JSON.stringify(health)}`);
  const created = await fetch(`${base}/Patient`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', ...auth },
    body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Smoke', given: ['Embedded'] }] }),
  });
  check(created.status === 201, `create answered ${created.status}`);
  const { id } = await created.json();
  const found = await (await fetch(`${base}/Patient?family=smo`, { headers: auth })).json();
  check(found.entry?.length === 1 && found.entry[0].resource.id === id, `search: ${JSON.stringify(found)}`);
  await stop(server);
  server = start();
  await server.ready;
  const again = await fetch(`${base}/Patient/${id}`, { headers: auth });
  check(again.status === 200, `read after restart answered ${again.status}`);
  await stop(server);
  server = undefined;
  process.stdout.write('embedded smoke test: 1 passed, 0 failed\n');
} catch (err) {
  process.stderr.write(`embedded smoke test failed: ${err.stack ?? err}\n`);
  if (server) {
    server.child.kill('SIGKILL');
  }
  process.exitCode = 1;
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
