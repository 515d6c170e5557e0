import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs, to stdout unless a destination is given (CLI commands whose stdout is their
 * JSON answer log to stderr). Request bodies are never logged: they carry PHI.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'hale' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
  };
  return destination ? pino(options, destination) : pino(options);
}
