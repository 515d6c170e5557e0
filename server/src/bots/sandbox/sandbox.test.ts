import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxLimits, SandboxResult, SandboxRun } from '.';
import { BotSandbox } from '.';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';

const limits: SandboxLimits = { memoryMb: 64, cpuMs: 1000, wallMs: 2000, logBytes: 4096 };
const event = {
  bot: { reference: 'Bot/test' },
  contentType: 'application/json',
  input: { name: 'Ada' },
  secrets: {},
  traceId: 't-1',
  headers: {},
};
const nowhere = { baseUrl: 'http://127.0.0.1:9', accessToken: 'unused' };

/** A bundle as esbuild writes it: CommonJS setting exports.handler. */
function bot(handler: string): string {
  return `"use strict";\nexports.handler = ${handler};\n`;
}

function runner(sandbox: () => BotSandbox) {
  return (code: string, extra: Partial<SandboxRun> = {}): Promise<SandboxResult> =>
    sandbox().run({ code, event, client: nowhere, fetchAllowHosts: [], limits, ...extra });
}

/** A plain HTTP server in this (the "server") process, asked every 10 ms while a bot misbehaves. */
async function whileServing<T>(work: () => Promise<T>): Promise<{ value: T; answers: number }> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let answers = 0;
  let serving = true;
  const asking = (async () => {
    while (serving) {
      if ((await (await fetch(url)).text()) === 'ok') {
        answers++;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    const value = await work();
    return { value, answers };
  } finally {
    serving = false;
    await asking;
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The sandbox's worker processes: children of this process running worker.ts. */
function workerPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes('sandbox/worker'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe('bot sandbox', () => {
  let sandbox: BotSandbox;
  const run = runner(() => sandbox);

  beforeAll(() => {
    sandbox = new BotSandbox({ workers: 2 });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  test('returns the handler value, copied out as JSON', async () => {
    const result = await run(bot('async () => ({ n: 1, list: [true, null, "x"] })'));
    expect(result).toMatchObject({ ok: true, returnValue: { n: 1, list: [true, null, 'x'] }, logs: [] });
    expect(result.durationMs).toBeGreaterThan(0);
    const nothing = await run(bot('async () => {}'));
    expect(nothing.ok).toBe(true);
    expect(nothing.returnValue).toBeUndefined();
  });

  test('reads event.input, and gets the whole event as a copy', async () => {
    const result = await run(
      bot(`async (medplum, event) => {
        event.input.name = 'changed';
        return { hello: event.input.name, traceId: event.traceId, bot: event.bot.reference };
      }`)
    );
    expect(result.returnValue).toEqual({ hello: 'changed', traceId: 't-1', bot: 'Bot/test' });
    expect(event.input.name).toBe('Ada');
  });

  test('keeps console lines with their level, and caps them at logBytes with a closing line', async () => {
    const result = await run(
      bot(`async () => {
        console.log('plain', { a: 1 }, [2], null, undefined);
        console.info('info'); console.warn('warn'); console.error(new Error('shown')); console.debug('debug');
        for (let i = 0; i < 100; i++) console.log('line ' + i + ' ' + 'x'.repeat(40));
      }`),
      { limits: { ...limits, logBytes: 400 } }
    );
    expect(result.ok).toBe(true);
    expect(result.logs.slice(0, 5)).toEqual([
      '[log] plain {"a":1} [2] null undefined',
      '[info] info',
      '[warn] warn',
      expect.stringMatching(/^\[error\] Error: shown\n {4}at /),
      '[debug] debug',
    ]);
    const kept = result.logs.slice(0, -1);
    expect(kept.reduce((n, line) => n + Buffer.byteLength(line), 0)).toBeLessThanOrEqual(400);
    expect(result.logs.at(-1)).toMatch(/^\[sandbox\] \d+ more line\(s\), \d+ bytes, cut: .* 400 bytes$/);
  });

  test('a bot that throws fails with its error kept', async () => {
    const result = await run(bot(`async () => { console.log('before'); throw new Error('boom'); }`));
    expect(result.ok).toBe(false);
    expect(result.error?.kind).toBe('error');
    expect(result.error?.message).toMatch(/^Error: boom\n {4}at .*bot\.js:2/);
    expect(result.logs).toEqual(['[log] before']);
    const inTimer = await run(
      bot(`async () => { setTimeout(() => { throw new Error('late'); }, 1); await new Promise(() => {}); }`)
    );
    expect(inTimer.error).toMatchObject({ kind: 'error', message: expect.stringContaining('Error: late') });
  });

  test('code that does not compile, fails to load or exports no handler is invalid-code', async () => {
    expect((await run('exports.handler = async () => {')).error).toMatchObject({
      kind: 'invalid-code',
      message: expect.stringContaining('SyntaxError'),
    });
    expect((await run('throw new Error("at load")')).error).toMatchObject({
      kind: 'invalid-code',
      message: expect.stringContaining('at load'),
    });
    expect((await run('exports.other = 1;')).error).toMatchObject({
      kind: 'invalid-code',
      message: 'the bot does not export a handler function (exports.handler)',
    });
    expect(await run('module.exports = { handler: () => "via module.exports" };')).toMatchObject({
      ok: true,
      returnValue: 'via module.exports',
    });
  });

  test('a return value that cannot be copied as JSON fails the run', async () => {
    for (const handler of [
      'async () => () => 1',
      'async () => { const a = {}; a.self = a; return a; }',
      'async () => 1n',
    ]) {
      expect((await run(bot(handler))).error).toEqual({
        kind: 'error',
        message: 'the bot returned a value that is not JSON',
      });
    }
  });

  test('while(true){} times out within its limits while the server keeps answering', async () => {
    const started = Date.now();
    const { value: result, answers } = await whileServing(() =>
      run(bot('async () => { while (true) {} }'), { limits: { ...limits, cpuMs: 1000, wallMs: 1500 } })
    );
    expect(result.error?.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1500 + 1000);
    expect(answers).toBeGreaterThan(0);
  });

  test('an infinite loop after an await, or in a timer, times out', async () => {
    const afterAwait = await run(bot('async () => { await new Promise((r) => setTimeout(r, 5)); while (true) {} }'), {
      limits: { ...limits, cpuMs: 500, wallMs: 1500 },
    });
    expect(afterAwait.error).toEqual({ kind: 'timeout', message: expect.stringContaining('500 ms of CPU') });
    const microtask = await run(bot('async () => { await null; for (;;) {} }'), {
      limits: { ...limits, cpuMs: 500, wallMs: 1500 },
    });
    expect(microtask.error?.kind).toBe('timeout');
  });

  test('a bot that never settles times out at its wall limit, its logs kept', async () => {
    const result = await run(bot(`async () => { console.log('waiting'); await new Promise(() => {}); }`), {
      limits: { ...limits, wallMs: 300 },
    });
    expect(result.error).toEqual({ kind: 'timeout', message: 'the bot did not finish within 300 ms' });
    expect(result.logs).toEqual(['[log] waiting']);
  });

  test('waiting does not count as CPU: a bot may sleep longer than its CPU limit', async () => {
    const result = await run(bot('async () => { await new Promise((r) => setTimeout(r, 600)); return "rested"; }'), {
      limits: { ...limits, cpuMs: 200, wallMs: 2000 },
    });
    expect(result).toMatchObject({ ok: true, returnValue: 'rested' });
  });

  test('allocating 2 GB fails as memory while the server keeps answering, and the next run succeeds', async () => {
    const { value: result, answers } = await whileServing(() =>
      run(
        bot(
          'async () => { const a = []; for (let i = 0; i < 2048; i++) a.push(new Array(131072).fill(i)); return a.length; }'
        ),
        {
          limits: { ...limits, memoryMb: 64, cpuMs: 10000, wallMs: 15000 },
        }
      )
    );
    expect(result.error?.kind).toBe('memory');
    expect(answers).toBeGreaterThan(0);
    expect(await run(bot('async () => "next"'))).toMatchObject({ ok: true, returnValue: 'next' });
    const buffers = await run(
      bot('async () => { const a = []; for (let i = 0; i < 2048; i++) a.push(new Uint8Array(1 << 20)); }')
    );
    expect(buffers.error?.kind).toBe('memory');
  });

  test('escape attempts find no process, require, module loader or host Function', async () => {
    const result = await run(
      bot(`async function (medplum) {
        const out = {};
        out.process = typeof process;
        out.globalProcess = typeof globalThis.process;
        out.viaThis = (this ?? globalThis).constructor.constructor('return typeof process')();
        out.viaObject = ({}).constructor.constructor('return typeof process')();
        out.viaConsole = console.log.constructor('return typeof process + typeof require')();
        out.viaFetch = await fetch.constructor('return typeof process')();
        try { require('fs'); out.require = 'loaded'; } catch (e) { out.require = e.message; }
        try { await import('fs'); out.import = 'loaded'; } catch (e) { out.import = 'refused'; }
        try { await medplum.constructor('return process'); out.medplumCtor = 'ran'; } catch (e) { out.medplumCtor = e.message; }
        out.hooks = [typeof __hale_start, typeof __hale_dispatch];
        return out;
      }`)
    );
    expect(result.error).toBeUndefined();
    expect(result.returnValue).toEqual({
      process: 'undefined',
      globalProcess: 'undefined',
      viaThis: 'undefined',
      viaObject: 'undefined',
      viaConsole: 'undefinedundefined',
      viaFetch: 'undefined',
      require: "require('fs'): modules are not available in the sandbox; bundle them",
      import: 'refused',
      medplumCtor: 'medplum.constructor is not available in the bot sandbox',
      hooks: ['undefined', 'undefined'],
    });
  });

  test('fetch is refused for other hosts, http, loopback addresses and names that resolve to loopback', async () => {
    const result = await run(
      bot(`async () => {
        const out = [];
        for (const url of ['https://example.org/', 'http://localhost/', 'https://127.0.0.1/', 'https://[::1]/', 'https://localhost/']) {
          try { await fetch(url); out.push('fetched'); } catch (e) { out.push(e.name + ': ' + e.message); }
        }
        return out;
      }`),
      { fetchAllowHosts: ['localhost', '127.0.0.1', '::1'] }
    );
    expect(result.returnValue).toEqual([
      'TypeError: fetch refused: example.org is not an allowed host (BOT_FETCH_ALLOW_HOSTS)',
      'TypeError: fetch refused: only https:// URLs may be fetched (http:)',
      'TypeError: fetch refused: 127.0.0.1 resolves to a loopback, private or link-local address',
      'TypeError: fetch refused: ::1 resolves to a loopback, private or link-local address',
      'TypeError: fetch refused: localhost resolves to a loopback, private or link-local address',
    ]);
  });

  test('URL, URLSearchParams, TextEncoder, TextDecoder, atob, btoa, crypto and timers are there', async () => {
    const result = await run(
      bot(`async () => {
        const url = new URL('/Patient?name=a', 'https://hale.example.org/fhir/R4/');
        url.searchParams.append('birthdate', 'ge2000 01');
        const bytes = new TextEncoder().encode('hé');
        let ticks = 0;
        await new Promise((resolve) => { const t = setInterval(() => { if (++ticks === 3) { clearInterval(t); resolve(); } }, 1); });
        const cleared = setTimeout(() => { throw new Error('cleared timers do not fire'); }, 1);
        clearTimeout(cleared);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return {
          href: url.href, host: url.host, query: String(new URLSearchParams({ q: 'a&b c' })),
          bytes: Array.from(bytes), text: new TextDecoder().decode(bytes),
          b64: btoa('hale'), unb64: atob('aGFsZQ=='), uuid: /^[0-9a-f-]{36}$/.test(crypto.randomUUID()), ticks,
        };
      }`)
    );
    expect(result.returnValue).toEqual({
      href: 'https://hale.example.org/Patient?name=a&birthdate=ge2000+01',
      host: 'hale.example.org',
      query: 'q=a%26b+c',
      bytes: [104, 195, 169],
      text: 'hé',
      b64: 'aGFsZQ==',
      unb64: 'hale',
      uuid: true,
      ticks: 3,
    });
  });

  describe('the medplum argument against a real Hale', () => {
    let srv: TestServer;
    let client: SandboxRun['client'];

    beforeAll(async () => {
      srv = await startTestServer();
      client = {
        baseUrl: srv.base.replace(/\/fhir\/R4$/, ''),
        accessToken: await srv.token({ scopes: ['system/*.cruds'] }),
      };
    });
    afterAll(async () => {
      await srv.stop();
    });

    test('creates a Patient and finds it with searchResources', async () => {
      const result = await run(
        bot(`async (medplum) => {
          const created = await medplum.createResource({ resourceType: 'Patient', name: [{ family: 'Sandbox' }] });
          const found = await medplum.searchResources('Patient');
          return { id: created.id, count: found.length, bundle: found.bundle.resourceType };
        }`),
        { client }
      );
      expect(result).toMatchObject({ ok: true, returnValue: { count: 1, bundle: 'Bundle' } });
      const id = (result.returnValue as { id: string }).id;
      expect((await srv.get(`Patient/${id}`)).body.name).toEqual([{ family: 'Sandbox' }]);
    });

    test('an OperationOutcome from Hale arrives as an Error the bot can catch', async () => {
      const result = await run(
        bot(`async (medplum) => {
          try {
            await medplum.readResource('Patient', 'no-such-patient');
            return 'found';
          } catch (err) {
            return { isError: err instanceof Error, message: err.message, code: err.outcome.issue[0].code };
          }
        }`),
        { client }
      );
      expect(result.returnValue).toEqual({ isError: true, message: expect.any(String), code: 'not-found' });
      expect((result.returnValue as { message: string }).message).not.toBe('');
    });

    test('the medplum client does not carry the token to any other origin', async () => {
      const result = await run(
        bot(`async (medplum) => {
          try { await medplum.get('http://169.254.169.254/latest/meta-data/'); return 'reached'; }
          catch (err) { return err.message; }
        }`),
        { client }
      );
      expect(result.returnValue).toBe(`the medplum client talks only to ${client.baseUrl}; use fetch()`);
    });
  });
});

describe('bot sandbox worker processes', () => {
  let sandbox: BotSandbox;
  const run = runner(() => sandbox);
  const sleeper = bot(`async () => { console.log('asleep'); await new Promise((r) => setTimeout(r, 5000)); }`);

  beforeAll(async () => {
    sandbox = new BotSandbox({ workers: 1 });
    await run(bot('async () => "warm"'));
  });
  afterAll(async () => {
    await sandbox.close();
  });

  test('a worker that dies mid-run gives crashed with the logs so far, and another worker takes its place', async () => {
    const pending = run(sleeper);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [pid] = workerPids();
    process.kill(pid as number, 'SIGKILL');
    const result = await pending;
    expect(result.error).toEqual({ kind: 'crashed', message: "the bot's worker process died (SIGKILL)" });
    expect(result.logs).toEqual(['[log] asleep']);
    expect(await run(bot('async () => "replaced"'))).toMatchObject({ ok: true, returnValue: 'replaced' });
    expect(workerPids()).not.toContain(pid);
  });

  test('a worker that stops answering is killed soon after the wall limit and replaced', async () => {
    const pending = run(sleeper, { limits: { ...limits, wallMs: 300 } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [pid] = workerPids();
    process.kill(pid as number, 'SIGSTOP');
    const result = await pending;
    expect(result.error).toEqual({
      kind: 'timeout',
      message: 'the bot did not finish within 300 ms; its worker process was killed',
    });
    expect(await run(bot('async () => "replaced"'))).toMatchObject({ ok: true, returnValue: 'replaced' });
  });

  test('after close, run rejects', async () => {
    const closing = new BotSandbox({ workers: 1 });
    await closing.close();
    await expect(closing.run({ code: '', event, client: nowhere, fetchAllowHosts: [], limits })).rejects.toThrow(
      'the bot sandbox is closed'
    );
  });
});
