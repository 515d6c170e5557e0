/** Runs Hale as a child process on the pinned Node, the way an operator would: `node --import tsx server/src/main.ts`. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { processCpuSeconds } from './cpu';

// CommonJS under tsx (no "type": "module"), like the server's migrate.ts.
export const REPO_ROOT = resolve(__dirname, '../..');

export interface HaleProcess {
  readonly pid: number;
  /** FHIR base, e.g. http://127.0.0.1:40123/fhir/R4 */
  readonly fhirBase: string;
  /** A `system/*.cruds` access token minted with the CLI, as an operator would. */
  readonly token: string;
  /** Wall time from spawning the process to its ready line, and the CPU time it had used by then. */
  readonly readyMs: number;
  readonly readyCpuMs: number;
  /** The last lines Hale wrote to stderr (warnings and errors at LOG_LEVEL=warn). */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Sends a signal and returns at once (the graceful-shutdown test holds requests open meanwhile). */
  kill(signal: NodeJS.Signals): void;
  /** Settles when the process has exited, with its exit code (null when a signal ended it). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const READY = /Hale FHIR server ready: (\S+)/;
const START_TIMEOUT_MS = 60_000;

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((done) => child.once('exit', () => done()));
}

/**
 * `nodeArgs` go before the script (e.g. `--cpu-prof` for `bench/src/profile-ingest.ts`); `env` adds variables;
 * `logFile` gets everything Hale writes to stdout (its JSON log lines), for reading request timings afterwards, and
 * `<logFile>.stderr` what it writes to stderr (a crash's stack).
 */
export async function startHale(
  databaseUrl: string,
  extra: { nodeArgs?: readonly string[]; env?: Record<string, string>; logFile?: string } = {}
): Promise<HaleProcess> {
  const spawnedAt = performance.now();
  let readyMs = Number.NaN;
  let readyCpuMs = Number.NaN;
  const child = spawn(process.execPath, [...(extra.nodeArgs ?? []), '--import', 'tsx', 'server/src/main.ts'], {
    cwd: REPO_ROOT,
    // PORT=0: Hale binds a free port and prints the base URL it got.
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...extra.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal }))
  );
  let stdout = '';
  let stderr = '';
  if (extra.logFile) {
    child.stdout?.pipe(createWriteStream(extra.logFile));
    child.stderr?.pipe(createWriteStream(`${extra.logFile}.stderr`));
  }
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000);
  });
  const stop = async (graceMs = 15_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  };
  const fhirBase = await new Promise<string>((ready, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`Hale did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`)),
      START_TIMEOUT_MS
    );
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const m = READY.exec(stdout);
      if (m?.[1]) {
        readyMs = performance.now() - spawnedAt;
        readyCpuMs = child.pid === undefined ? Number.NaN : processCpuSeconds(child.pid) * 1000;
        clearTimeout(timer);
        ready(m[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`Hale exited during start (code ${code}, signal ${signal}):\n${stderr}`));
    });
  }).catch(async (err: unknown) => {
    await stop(2_000);
    throw err;
  });
  if (child.pid === undefined) {
    throw new Error('Hale has no pid');
  }
  return {
    pid: child.pid,
    fhirBase,
    readyMs,
    readyCpuMs,
    token: mintToken(databaseUrl, fhirBase.replace(/\/fhir\/R4$/, '')),
    stderrTail: () => stderr,
    stop,
    kill: (signal) => child.kill(signal),
    exit,
  };
}

/** `npm run hale -- token --scope "system/*.cruds"`, long-lived enough for a whole run. */
function mintToken(databaseUrl: string, baseUrl: string): string {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'server/src/cli.ts', 'token', '--scope', 'system/*.cruds'],
    {
      cwd: REPO_ROOT,
      // The token's audience is the FHIR base of this server (which bound a random port).
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        BASE_URL: baseUrl,
        ACCESS_TOKEN_TTL_SECONDS: '3600',
        LOG_LEVEL: 'warn',
      },
      encoding: 'utf8',
    }
  );
  if (run.status !== 0) {
    throw new Error(`could not mint an access token: ${run.stderr}`);
  }
  return (JSON.parse(run.stdout) as { access_token: string }).access_token;
}
