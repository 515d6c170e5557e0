/**
 * A PostgreSQL cluster of the fault suite's own: initdb of the machine's PostgreSQL binaries into a temporary
 * directory (optionally a tmpfs of a fixed size), on a free port, so a scenario may stop it immediately, kill its
 * backends or fill its disk without
 * touching the machine's shared server. As root (CI), the cluster runs as the `postgres` user, as initdb requires.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The newest installed major version's binaries (Debian: /usr/lib/postgresql/<major>/bin). */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) {
    return undefined;
  }
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))
      );
    });
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The postgres user's uid and gid, when running as root (initdb refuses to run as root). */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (!asRoot) {
    return undefined;
  }
  return { uid: Number(execFileSync('id', ['-u', 'postgres'])), gid: Number(execFileSync('id', ['-g', 'postgres'])) };
}

/**
 * Whether this process may mount a size-limited tmpfs (root, and a kernel that lets it), which is how a scenario
 * gives a cluster a disk that can fill up without filling the machine's.
 */
export function canMountTmpfs(): boolean {
  if (!asRoot) {
    return false;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hale-faults-mount-'));
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status !== 0) {
      return false;
    }
    return spawnSync('umount', [dir]).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PgClusterOptions {
  /** The cluster's directory is a tmpfs of this many MiB (canMountTmpfs), so its disk can be filled. */
  diskMb?: number;
}

export class PgCluster {
  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly mounted: boolean
  ) {}

  /** A new cluster, started. */
  static async create(options: PgClusterOptions = {}): Promise<PgCluster> {
    const bin = postgresBin();
    if (!bin) {
      throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
    }
    const dir = mkdtempSync(join(tmpdir(), 'hale-faults-pg-'));
    if (options.diskMb) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${options.diskMb}m,mode=0700`, 'tmpfs', dir]);
    }
    const user = postgresUser();
    if (user) {
      chownSync(dir, user.uid, user.gid);
    }
    const cluster = new PgCluster(bin, dir, await freePort(), options.diskMb !== undefined);
    cluster.run('initdb', ['-D', cluster.data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    cluster.start();
    return cluster;
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  /** Connection URL of a database on this cluster. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  start(): void {
    // The socket in the cluster's own directory: /var/run/postgresql belongs to the machine's server.
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=on -c max_connections=100`;
    this.run('pg_ctl', ['-D', this.data, '-o', options, '-l', join(this.dir, 'log'), '-w', '-t', '60', 'start']);
  }

  /** `pg_ctl stop -m <mode>`: immediate is a crash as far as the data is concerned (recovery on the next start). */
  stop(mode: 'smart' | 'fast' | 'immediate' = 'fast'): void {
    this.run('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  running(): boolean {
    return spawnSync(join(this.bin, 'pg_ctl'), ['-D', this.data, 'status'], this.spawnOptions()).status === 0;
  }

  /** Stops the cluster (if running) and removes its directory. */
  destroy(): void {
    if (this.running()) {
      this.stop('immediate');
    }
    if (this.mounted) {
      spawnSync('umount', [this.dir]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private spawnOptions(): { encoding: 'utf8'; uid?: number; gid?: number } {
    return { encoding: 'utf8', ...postgresUser() };
  }

  private run(tool: string, args: readonly string[]): void {
    const r = spawnSync(join(this.bin, tool), args, { ...this.spawnOptions(), cwd: this.dir });
    if (r.status !== 0) {
      throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
    }
  }
}
