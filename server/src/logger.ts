import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs. Request bodies are never logged: they carry PHI. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'hale' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
  });
}
