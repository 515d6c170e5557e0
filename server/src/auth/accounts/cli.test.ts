import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestDatabase } from '../../test/test-db';
import { createTestDatabase } from '../../test/test-db';

const ROOT = join(__dirname, '../../../..');
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

/**
 * Runs `npm run hale -- …` as an operator would (tsx on the CLI source, DATABASE_URL of the test
 * database). Asynchronous: an embedded test database is served from this process.
 */
function hale(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(input ?? '');
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

describe('CLI', () => {
  test('admin create makes an active, verified admin and prints it as JSON', async () => {
    const run = await hale([
      'admin',
      'create',
      '--email',
      'First.Admin@hale.example',
      '--password',
      'copper lantern drifts north 5',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const printed = JSON.parse(run.stdout) as { id: string; email: string; roles: string[] };
    expect(printed).toMatchObject({ email: 'First.Admin@hale.example', roles: ['admin'] });
    expect(printed.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('admin create refuses a common password and an email that is taken', async () => {
    const weak = await hale(['admin', 'create', '--email', 'second@hale.example', '--password', 'Admin1234567!']);
    expect(weak.status).toBe(1);
    expect(weak.stderr).toContain('Choose a different password');
    const taken = await hale([
      'admin',
      'create',
      '--email',
      'first.admin@HALE.example',
      '--password',
      'copper lantern drifts north 6',
    ]);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toContain('already exists');
  });

  test('admin create reads the password from stdin with --password-stdin', async () => {
    const run = await hale(
      ['admin', 'create', '--email', 'stdin@hale.example', '--password-stdin'],
      'quiet river stone 314\n'
    );
    expect(run.status).toBe(0);
  });

  test('user list prints one JSON line per account, without secrets', async () => {
    const run = await hale(['user', 'list']);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const users = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(users.map((u) => u.email)).toEqual(['First.Admin@hale.example', 'stdin@hale.example']);
    expect(users[0]).toMatchObject({ roles: ['admin'], status: 'active', verified: true });
    expect(Object.keys(users[0] ?? {}).sort()).toEqual(['createdAt', 'email', 'id', 'roles', 'status', 'verified']);
    expect(run.stdout).not.toContain('argon2');
  });

  test('an unknown command prints the usage and exits 2', async () => {
    const run = await hale(['user', 'frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('admin create');
  });
});
