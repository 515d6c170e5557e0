/**
 * A bot worker process (started by BotSandbox with --no-node-snapshot and a heap cap): runs one bot
 * at a time, each in a fresh isolate, and answers over the IPC channel. It holds no server state
 * and no server secrets; it exits when the server goes away.
 */
import { Session } from './session';
import type { FromWorker, ToWorker } from './types';

/** Above this resident size the worker asks to be replaced rather than carry a grown heap into the next run. */
const RETIRE_RSS_BYTES = 1024 * 1024 * 1024;
const WARM_MEMORY_MB = 128;

let spare: Promise<Session | undefined> = warm(WARM_MEMORY_MB);

function warm(memoryMb: number): Promise<Session | undefined> {
  return Session.create(memoryMb).catch((err: unknown) => {
    process.stderr.write(`could not prepare an isolate: ${String(err)}\n`);
    return undefined;
  });
}

function send(message: FromWorker): void {
  process.send?.(message);
}

async function handle(message: ToWorker): Promise<void> {
  const { id, run } = message;
  const memoryMb = Math.max(8, Math.floor(run.limits.memoryMb));
  let session = await spare;
  if (session?.memoryMb !== memoryMb) {
    session?.dispose();
    session = await Session.create(memoryMb);
  }
  const { result, logs } = await session.run(run, (lines) => send({ type: 'logs', id, lines }));
  const retire = result.error?.kind === 'memory' || process.memoryUsage.rss() > RETIRE_RSS_BYTES;
  if (logs.length > 0) {
    send({ type: 'logs', id, lines: logs });
  }
  send({ type: 'result', id, result, retire });
  spare = retire ? Promise.resolve(undefined) : warm(memoryMb);
}

process.on('message', (message: ToWorker) => {
  if (message?.type === 'run') {
    handle(message).catch((err: unknown) => {
      send({
        type: 'result',
        id: message.id,
        result: { ok: false, error: { kind: 'crashed', message: `the bot worker failed: ${String(err)}` } },
        retire: true,
      });
    });
  }
});
process.on('disconnect', () => process.exit(0));

void spare.then(() => send({ type: 'ready' }));
