/** The bot sandbox: runs one bot invocation in an isolate inside a worker process. See docs/bots.md. */
export { BotSandbox } from './pool';
export type { SandboxErrorKind, SandboxLimits, SandboxResult, SandboxRun } from './types';
