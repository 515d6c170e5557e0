import type { Logger } from '../../logger';
import type { SandboxResult, SandboxRun } from './types';
import { WorkerProcess } from './worker-process';

/** Starts that fail before a worker is ready, in a row, before queued runs are answered `crashed`. */
const MAX_START_FAILURES = 3;
const MAX_RESTART_DELAY_MS = 5000;
const STOP_GRACE_MS = 2000;

interface Queued {
  run: SandboxRun;
  resolve: (result: SandboxResult) => void;
}

/**
 * Runs bots in isolated-vm isolates inside a pool of worker processes, never in the server process:
 * a bot that loops, allocates without end or crashes V8 costs its own run and at most its worker,
 * which is replaced. Runs queue for a free worker; each worker runs one bot at a time.
 */
export class BotSandbox {
  private readonly size: number;
  private readonly logger: Logger | undefined;
  private readonly workers = new Set<WorkerProcess>();
  private readonly idle: WorkerProcess[] = [];
  private readonly queue: Queued[] = [];
  private readonly running = new Set<Promise<SandboxResult>>();
  private startFailures = 0;
  private closed = false;

  constructor(options: { workers?: number; logger?: Logger }) {
    this.size = Math.max(1, Math.floor(options.workers ?? 2));
    this.logger = options.logger;
    for (let i = 0; i < this.size; i++) {
      this.spawn();
    }
  }

  /** Resolves with the run's result, also when the bot fails; rejects only when the sandbox is closed. */
  run(run: SandboxRun): Promise<SandboxResult> {
    if (this.closed) {
      return Promise.reject(new Error('the bot sandbox is closed'));
    }
    const limits = run.limits;
    for (const name of ['memoryMb', 'cpuMs', 'wallMs', 'logBytes'] as const) {
      if (!Number.isFinite(limits?.[name]) || limits[name] < 0) {
        return Promise.reject(new TypeError(`limits.${name} must be a number ≥ 0`));
      }
    }
    const result = new Promise<SandboxResult>((resolve) => {
      this.queue.push({ run, resolve });
    });
    this.running.add(result);
    void result.finally(() => this.running.delete(result));
    this.pump();
    return result;
  }

  /** Answers queued runs `crashed`, lets running ones finish (each within its wall limit), then stops the workers. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.failQueued('the bot sandbox was closed before the run started');
    await Promise.all([...this.running]);
    await Promise.all([...this.workers].map((w) => w.stop(STOP_GRACE_MS)));
  }

  private spawn(): void {
    const worker = new WorkerProcess(
      {
        ready: (w) => {
          this.startFailures = 0;
          this.release(w);
        },
        free: (w) => this.release(w),
        exit: (w, wasReady) => this.onExit(w, wasReady),
      },
      this.logger
    );
    this.workers.add(worker);
  }

  private release(worker: WorkerProcess): void {
    if (this.closed) {
      void worker.stop(STOP_GRACE_MS);
      return;
    }
    this.idle.push(worker);
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.shift();
      if (!worker) {
        return;
      }
      if (worker.state !== 'idle') {
        continue;
      }
      const job = this.queue.shift() as Queued;
      worker.execute(job.run, job.resolve);
    }
  }

  private onExit(worker: WorkerProcess, wasReady: boolean): void {
    this.workers.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at >= 0) {
      this.idle.splice(at, 1);
    }
    if (this.closed) {
      return;
    }
    if (wasReady) {
      this.logger?.info({ pid: worker.pid }, 'bot worker exited; starting another');
      this.spawn();
      return;
    }
    this.startFailures++;
    this.logger?.error({ pid: worker.pid, stderr: worker.lastStderr }, 'bot worker failed to start');
    if (this.startFailures >= MAX_START_FAILURES) {
      this.failQueued(`the bot sandbox cannot start its worker processes: ${worker.lastStderr.trim().slice(-500)}`);
    }
    const delay = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** this.startFailures);
    setTimeout(() => {
      if (!this.closed) {
        this.spawn();
      }
    }, delay).unref();
  }

  private failQueued(message: string): void {
    for (const job of this.queue.splice(0)) {
      job.resolve({ ok: false, error: { kind: 'crashed', message }, logs: [], durationMs: 0 });
    }
  }
}
