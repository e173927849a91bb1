import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * The compiled service as an operator starts it: `node dist/server.js`, configured only by the
 * environment and a `.env` file in its working directory.
 */

const root = resolve(import.meta.dirname, '../..');
const serverScript = join(root, 'dist/server.js');
const children: ChildProcess[] = [];
let directory: string;

/** Only what a clean shell has: no credentials leak in from the test runner's environment. */
function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
}

function start(cwd: string, extra: Record<string, string>) {
  const child = spawn(process.execPath, [serverScript], {
    cwd,
    env: cleanEnvironment(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8_000);
  });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString()).slice(-32_000);
  });
  const exited = new Promise<number | null>((resolvePromise) => child.once('exit', (code) => resolvePromise(code)));
  let host: string | undefined;
  const listening = new Promise<number>((resolvePromise, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number; host?: string };
        if (entry.msg === 'listening' && typeof entry.port === 'number') {
          host = entry.host;
          resolvePromise(entry.port);
        }
      } catch {
        // not a JSON log line
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code} before listening:\n${stderr}`)));
  });
  // Tests that expect an early exit never await it.
  listening.catch(() => {});
  return { child, exited, listening, stderr: () => stderr, stdout: () => stdout, host: () => host };
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePromise(port));
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 50));
  }
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: root, stdio: 'inherit' });
  directory = mkdtempSync(join(tmpdir(), 'server-start-'));
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('node dist/server.js', () => {
  it('starts without any Feishu or model credentials, configured from .env, and says honestly what is off', async () => {
    const workingDirectory = mkdtempSync(join(directory, 'dev-'));
    writeFileSync(join(workingDirectory, '.env'), 'PORT=0\nHOST=127.0.0.1\nSTORE_URL=sqlite:./data/bot.db\n');
    const server = start(workingDirectory, {});
    const port = await server.listening;
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    // Nobody can be answered without a model: not "healthy", and it says why.
    expect(health.status).toBe(503);
    const body = (await health.json()) as {
      status: string;
      window: { seconds: number };
      agent: { state: string; reason: string };
      feishu: { webhook: string; longConnection: { state: string; reason: string } };
      store: { kind: string; state: string };
    };
    expect(body.status).toBe('unhealthy');
    expect(body.window.seconds).toBe(300);
    expect(body.agent).toEqual({ state: 'off', reason: 'no model: MODEL, OPENAI_API_KEY not set' });
    expect(body.feishu).toMatchObject({
      webhook: 'off',
      longConnection: { state: 'off', reason: 'FEISHU_APP_ID, FEISHU_APP_SECRET not set' },
    });
    expect(body.store).toEqual({ kind: 'sqlite', state: 'ok' });
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    // Devtools are on in development: the root sends a browser there.
    const root = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/devtools');

    // Not a terminal: JSON lines, the start-up summary among them as one line.
    const lines = server
      .stdout()
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as { msg: string; startup?: Record<string, unknown> });
    const started = lines.filter((line) => line.msg === 'started');
    expect(started).toHaveLength(1);
    expect(started[0]!.startup).toMatchObject({
      listen: `http://127.0.0.1:${port}`,
      devtools: { url: `http://127.0.0.1:${port}/devtools` },
      feishu: { off: 'FEISHU_APP_ID, FEISHU_APP_SECRET not set' },
      model: { off: 'no model: MODEL, OPENAI_API_KEY not set' },
      store: 'sqlite:./data/bot.db',
    });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('prints a coloured, readable start-up block with LOG_FORMAT=pretty and a JSON index at / without devtools', async () => {
    const port = await freePort();
    const server = start(directory, {
      PORT: String(port),
      HOST: '127.0.0.1',
      STORE_URL: 'sqlite::memory:',
      LOG_FORMAT: 'pretty',
      ENABLE_DEVTOOLS: 'false',
    });
    await waitFor(() => server.stdout().includes('features'), 15_000);
    const output = server.stdout();
    // ANSI colour escapes (ESC [ n m).
    expect(output).toContain(`${String.fromCharCode(27)}[`);
    expect(output).toContain(`listening  http://127.0.0.1:${port}`);
    expect(output).toContain('devtools   off: ENABLE_DEVTOOLS is false');
    expect(output).toContain('– agent: no model: MODEL, OPENAI_API_KEY not set');
    expect(() => JSON.parse(output.split('\n')[0]!)).toThrow();
    const index = await fetch(`http://127.0.0.1:${port}/`);
    expect(index.status).toBe(200);
    expect(await index.json()).toMatchObject({ service: 'feishu-agent-bot', routes: expect.any(Array) });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses to start in production with one message naming every missing setting', async () => {
    const server = start(directory, { NODE_ENV: 'production', PORT: '0', MODEL: 'gpt-4o-mini', PORT_TYPO: 'x' });
    expect(await server.exited).toBe(1);
    const message = server.stderr();
    expect(message).toContain('Invalid configuration');
    for (const name of ['FEISHU_APP_ID', 'FEISHU_APP_SECRET', 'OPENAI_API_KEY']) expect(message).toContain(name);
    // One message, not a stack trace.
    expect(message).not.toMatch(/\n\s+at /);
  });

  it('reports an invalid value instead of guessing', async () => {
    const server = start(directory, { PORT: 'eighty', STORE_URL: 'mongodb://x' });
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toMatch(/PORT[\s\S]*STORE_URL/);
  });

  it('refuses an MCP servers file with an unknown field, naming the file, the server and the field', async () => {
    const file = join(directory, 'mcp-servers.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { files: { command: 'npx', arguments: ['-y', 'server'] } } }));
    const server = start(directory, {
      PORT: '0',
      MODEL: 'gpt-4o-mini',
      OPENAI_API_KEY: 'sk-test',
      MCP_SERVERS_FILE: file,
    });
    expect(await server.exited).toBe(1);
    const message = server.stderr();
    expect(message).toContain(`Invalid MCP servers file ${file}`);
    expect(message).toContain('mcpServers.files: unknown field "arguments"');
    expect(message).not.toMatch(/\n\s+at /);
  });

  it('listens on 127.0.0.1 by default in development, devtools open to this machine without a token', async () => {
    const workingDirectory = mkdtempSync(join(directory, 'newcomer-'));
    writeFileSync(join(workingDirectory, '.env'), 'PORT=0\nSTORE_URL=sqlite:./data/bot.db\n');
    const server = start(workingDirectory, {});
    const port = await server.listening;
    expect(server.host()).toBe('127.0.0.1');
    expect((await fetch(`http://127.0.0.1:${port}/devtools/api/stats`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses devtools bound beyond loopback without a token, in one message naming DEVTOOLS_TOKEN', async () => {
    const server = start(directory, { PORT: '0', HOST: '0.0.0.0', STORE_URL: 'sqlite::memory:' });
    expect(await server.exited).toBe(1);
    const message = server.stderr();
    expect(message).toContain('Invalid configuration');
    expect(message).toMatch(
      /DEVTOOLS_TOKEN: required while devtools are on and HOST=0\.0\.0\.0 is not a loopback address/,
    );
    expect(message).not.toMatch(/\n\s+at /);
  });

  it('refuses a devtools token shorter than 32 characters', async () => {
    const server = start(directory, { PORT: '0', STORE_URL: 'sqlite::memory:', DEVTOOLS_TOKEN: 'hunter2-hunter2' });
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toMatch(/DEVTOOLS_TOKEN: must be at least 32 characters/);
    expect(server.stderr()).not.toContain('hunter2-hunter2');
  });
});
