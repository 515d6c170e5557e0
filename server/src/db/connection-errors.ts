/**
 * Errors that say the connection to PostgreSQL (or the server behind it) is gone, rather than
 * that a statement was wrong: a terminated backend, a restart or failover, a pooler recycling
 * connections, `idle_in_transaction_session_timeout`, or a server that is not accepting
 * connections. They are the caller's cue to answer 503 with Retry-After, or to re-run work that
 * never reached COMMIT.
 */

/** SQLSTATEs of a lost or refused session (class 08 is "connection exception"). */
const SESSION_LOST = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, or a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, or in recovery after a crash
  '57P05', // idle_session_timeout
  '25P03', // idle_in_transaction_session_timeout
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);

/** Messages node-postgres uses for a connection that died or could not be had (they carry no code). */
const DRIVER_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
  'Client was closed and is not queryable',
];

/**
 * A statement cancelled by statement_timeout (DATABASE_STATEMENT_TIMEOUT_MS) or lock_timeout: the session is fine,
 * the database was too busy or blocked to answer in time. Also worth a retry, so also a 503.
 */
export function isTimeoutError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === '57014' || code === '55P03';
}

/**
 * The database ran out of disk (53100 disk_full: a table or index could not grow) or memory (53200): the statement
 * failed and wrote nothing, the session is usable, and the same request can succeed once an operator frees space.
 */
export function isResourceExhausted(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === '53100' || code === '53200';
}

export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) {
    return false;
  }
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (SESSION_LOST.has(code) || SOCKET_CODES.has(code))) {
    return true;
  }
  return typeof message === 'string' && DRIVER_MESSAGES.some((m) => message.startsWith(m));
}
