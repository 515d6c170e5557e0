import pino from 'pino';
import { currentRequestId } from './request-context';

export type Logger = pino.Logger;

/**
 * Structured JSON logs, to stdout unless a destination is given (CLI commands whose stdout is their
 * JSON answer log to stderr). Request bodies are never logged: they carry PHI. A line written while a request is
 * served carries its `reqId` (the X-Request-Id it answers with), wherever in the code it is written.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'hale' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
    mixin: (): Record<string, string> => {
      const reqId = currentRequestId();
      return reqId ? { reqId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
