/** What the figures were measured on, for the report. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { postgresSettings, postgresVersion } from './postgres';
import { REPO_ROOT } from './server-process';

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  /** 1-minute load average when the run started: other work on the machine skews the figures. */
  readonly loadAtStart: number;
  readonly postgres: string;
  readonly postgresSettings: Record<string, string>;
  readonly node: string;
  /** Hale's git commit, with "+ uncommitted changes" when the tree is dirty. */
  readonly commit: string;
}

function gitCommit(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'server', 'seed').length > 0;
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in server/ or seed/' : ''}`;
  } catch {
    return 'unknown';
  }
}

export async function describeMachine(pgUrl: string): Promise<Machine> {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: totalmem() / 1024 ** 3,
    loadAtStart: loadavg()[0] ?? Number.NaN,
    postgres: await postgresVersion(pgUrl),
    postgresSettings: await postgresSettings(pgUrl, [
      'shared_buffers',
      'synchronous_commit',
      'fsync',
      'work_mem',
      'autovacuum',
    ]),
    node: process.version,
    commit: gitCommit(),
  };
}
