import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startHale } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const hale = await startHale(config, logger);
  logger.info({ url: hale.url, fhir: hale.fhirBaseUrl }, 'Hale is listening');
  process.stdout.write(`\nHale FHIR server ready: ${hale.fhirBaseUrl}\n\n`);
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    // stop() is bounded by the delay and grace periods; past them plus a margin for closing the pools and
    // queues, something hangs, and an orchestrator would SIGKILL us anyway: exit non-zero and say so.
    const limitMs = config.shutdownDelayMs + config.shutdownGraceMs + 15_000;
    setTimeout(() => {
      logger.error({ limitMs }, 'shutdown did not finish in time');
      process.exit(1);
    }, limitMs).unref();
    hale.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      }
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Hale failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
