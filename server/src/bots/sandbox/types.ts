/** The sandbox's public types, and the messages between the pool (server process) and its worker processes. */

export interface SandboxLimits {
  memoryMb: number;
  cpuMs: number;
  wallMs: number;
  logBytes: number;
}

export interface SandboxRun {
  /** CommonJS JavaScript (an esbuild `--format=cjs --platform=neutral` bundle): sets exports.handler or module.exports.handler. */
  code: string;
  /** The bot event as JSON: { bot: {reference}, contentType, input, secrets, traceId, headers }. */
  event: Record<string, unknown>;
  /** Where the bot's MedplumClient talks to Hale, and the bot-scoped access token it uses. */
  client: { baseUrl: string; accessToken: string };
  /** https hosts the bot's global fetch may reach (exact host names); everything else is refused. */
  fetchAllowHosts: readonly string[];
  limits: SandboxLimits;
}

export type SandboxErrorKind = 'error' | 'timeout' | 'memory' | 'crashed' | 'invalid-code';

export interface SandboxResult {
  ok: boolean;
  /** The handler's return value, copied out as JSON (undefined when it returned nothing). */
  returnValue?: unknown;
  error?: { kind: SandboxErrorKind; message: string };
  /** console.log/info/warn/error/debug lines, each prefixed with its level, capped at limits.logBytes (a last line says how much was cut). */
  logs: string[];
  /** From the run reaching a worker process to its result (time spent queued for a worker is not counted). */
  durationMs: number;
}

/** Server → worker process. */
export type ToWorker = { type: 'run'; id: number; run: SandboxRun };

/** Worker process → server. Log lines stream while the bot runs, so they outlive a worker that must be killed. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'logs'; id: number; lines: string[] }
  | {
      type: 'result';
      id: number;
      result: Omit<SandboxResult, 'logs' | 'durationMs'>;
      /** The worker asks to be replaced (after a memory breach, or when its own memory has grown). */
      retire: boolean;
    };
