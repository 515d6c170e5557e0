import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { extname, join } from 'node:path';
import type { Logger } from '../../logger';
import type { FromWorker, SandboxResult, SandboxRun, ToWorker } from './types';

/** The worker's own V8 heap (its isolates have their own limits): JSON of results, logs and fetch bodies. */
const WORKER_HEAP_MB = 512;
/** How long past a run's wall limit the server waits for its worker before killing it. */
const KILL_GRACE_MS = 1000;
const READY_TIMEOUT_MS = 30_000;
const STDERR_TAIL_CHARS = 2000;
const WORKER_NICENESS = 10;

interface Job {
  id: number;
  run: SandboxRun;
  resolve: (result: SandboxResult) => void;
  logs: string[];
  startedAt: number;
  killTimer: NodeJS.Timeout;
  killedForTime: boolean;
}

export interface WorkerEvents {
  ready(worker: WorkerProcess): void;
  free(worker: WorkerProcess): void;
  exit(worker: WorkerProcess, wasReady: boolean): void;
}

let nextJobId = 0;

/**
 * One bot worker process as the server sees it: started, handed one run at a time, killed with
 * SIGKILL when a run outlives its wall limit (a worker whose event loop is stuck cannot stop the
 * isolate itself), and reported when it exits so the pool can start another.
 */
export class WorkerProcess {
  state: 'starting' | 'idle' | 'busy' | 'exited' = 'starting';
  private readonly child: ChildProcess;
  private job: Job | undefined;
  private stderrTail = '';
  private readonly readyTimer: NodeJS.Timeout;

  constructor(
    private readonly events: WorkerEvents,
    private readonly logger: Logger | undefined
  ) {
    // worker.ts under tsx in development and tests; worker.js once compiled.
    const entry = join(__dirname, `worker${extname(__filename)}`);
    const child = fork(entry, [], {
      execArgv: [
        '--no-node-snapshot',
        `--max-old-space-size=${WORKER_HEAP_MB}`,
        ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []),
      ],
      cwd: join(__dirname, '../../..'),
      env: workerEnv(),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    // Bots lose to the server when they compete for a core: a spinning bot must not slow requests.
    // (pid 0 would be the server itself, so only a started child is reniced.)
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, WORKER_NICENESS);
      } catch {
        // Not permitted here (some containers): the worker runs at the server's priority.
      }
    }
    child.stdout?.on('data', (chunk: Buffer) =>
      this.logger?.warn({ pid: child.pid, out: chunk.toString() }, 'bot worker')
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL_CHARS);
      this.logger?.warn({ pid: child.pid, err: chunk.toString() }, 'bot worker');
    });
    child.on('message', (message: FromWorker) => this.onMessage(message));
    child.on('exit', (code, signal) => this.onExit(code, signal));
    child.on('error', (err) => this.logger?.error({ err }, 'bot worker process error'));
    this.readyTimer = setTimeout(() => this.kill(), READY_TIMEOUT_MS);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get lastStderr(): string {
    return this.stderrTail;
  }

  execute(run: SandboxRun, resolve: (result: SandboxResult) => void): void {
    const id = ++nextJobId;
    const job: Job = {
      id,
      run,
      resolve,
      logs: [],
      startedAt: performance.now(),
      killedForTime: false,
      killTimer: setTimeout(() => {
        job.killedForTime = true;
        this.kill();
      }, run.limits.wallMs + KILL_GRACE_MS),
    };
    this.job = job;
    this.state = 'busy';
    const message: ToWorker = { type: 'run', id, run };
    this.child.send(message);
  }

  kill(): void {
    if (this.state !== 'exited') {
      this.child.kill('SIGKILL');
    }
  }

  /** Lets the worker exit on its own (it exits when the channel closes); kills it if it has not in `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.state === 'exited') {
      return;
    }
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) {
      this.child.disconnect();
    }
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private onMessage(message: FromWorker): void {
    if (message.type === 'ready') {
      clearTimeout(this.readyTimer);
      this.state = 'idle';
      this.events.ready(this);
      return;
    }
    const job = this.job;
    if (!job || message.id !== job.id) {
      return;
    }
    if (message.type === 'logs') {
      job.logs.push(...message.lines);
      return;
    }
    this.finish(job, { ...message.result, logs: job.logs, durationMs: performance.now() - job.startedAt });
    if (message.retire) {
      this.kill();
    } else {
      this.state = 'idle';
      this.events.free(this);
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const wasReady = this.state !== 'starting';
    this.state = 'exited';
    clearTimeout(this.readyTimer);
    const job = this.job;
    if (job) {
      const error = job.killedForTime
        ? {
            kind: 'timeout' as const,
            message: `the bot did not finish within ${job.run.limits.wallMs} ms; its worker process was killed`,
          }
        : { kind: 'crashed' as const, message: `the bot's worker process died (${signal ?? `exit code ${code}`})` };
      this.finish(job, { ok: false, error, logs: job.logs, durationMs: performance.now() - job.startedAt });
    }
    this.events.exit(this, wasReady);
  }

  private finish(job: Job, result: SandboxResult): void {
    clearTimeout(job.killTimer);
    this.job = undefined;
    job.resolve(result);
  }
}

/** Only what node needs: none of the server's secrets (database URL, signing keys) reach a worker. */
function workerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_ENV: process.env.NODE_ENV ?? 'production' };
  for (const name of ['PATH', 'TMPDIR', 'TZ', 'LANG']) {
    if (process.env[name] !== undefined) {
      env[name] = process.env[name];
    }
  }
  return env;
}
