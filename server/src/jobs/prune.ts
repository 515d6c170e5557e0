import type { Database } from '../db/database';
import type { Logger } from '../logger';
import { pruneExpired } from '../auth/oauth';

/**
 * Deletes expired authorization codes, access-token records, client-assertion ids and launches
 * every `intervalMs`, so they do not pile up. Several replicas doing it at once is harmless
 * (plain DELETEs of expired rows). The timer does not keep the process alive.
 */
export function startPruning(db: Database, logger: Logger, intervalMs = 10 * 60_000): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) {
      return;
    }
    running = pruneExpired(db)
      .then(
        () => undefined,
        (err: unknown) => logger.warn({ err }, 'pruning expired OAuth state failed')
      )
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
