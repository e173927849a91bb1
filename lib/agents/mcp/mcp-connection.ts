import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log.js';
import { packageVersion } from '../../process/startup-summary.js';
import { backoffDelay } from '../../util/backoff.js';
import { errorMessage } from '../../util/error-message.js';
import type { McpServerConfig } from './mcp-servers-file.js';

export type McpServerState = 'connecting' | 'ready' | 'restarting' | 'closed';

/** One server's row in `/health`. */
export interface McpServerStatus {
  name: string;
  transport: 'stdio' | 'http';
  state: McpServerState;
  /** Tools the server listed. */
  tools: number;
  /** Times the connection was lost and made again. */
  restarts: number;
  /** The last connection problem (credentials of the entry redacted), when there was one. */
  lastError?: string;
  /** ISO time of the next attempt while restarting. */
  nextAttemptAt?: string;
}

export interface McpConnectionOptions {
  server: McpServerConfig;
  log?: Logger;
  /** Connecting and listing the tools, per attempt. */
  connectTimeoutMs?: number;
  /** Back-off between attempts after a crash or a failed start: doubling from the first, capped. */
  restartInitialMs?: number;
  restartMaxMs?: number;
  /**
   * Bytes one message from the server may have at most (a tool result included): beyond it the
   * connection is dropped and restarted, so a runaway server cannot fill the bot's memory.
   */
  maxMessageBytes?: number;
  /** Called when the tool list changes (a new connection listed them). */
  onTools?: (tools: readonly McpTool[]) => void;
}

/** Tools one server may offer at most: a server listing thousands is refused beyond this. */
const MAX_TOOLS = 100;
/** Pages of `tools/list` read at most. */
const MAX_TOOL_PAGES = 10;
/** stderr lines of a stdio server kept for the log, each cut to this. */
const STDERR_LINE_MAX = 500;

export interface McpConnection {
  readonly name: string;
  /** Scrubs the entry's credentials (headers, env, URL query) from text about this server. */
  redact(text: string): string;
  /** The tools of the current (or last) connection. */
  tools(): readonly McpTool[];
  /** Calls a tool on the current connection; rejects at once when the server is not ready. */
  callTool(
    name: string,
    input: unknown,
    options: { signal: AbortSignal; timeoutMs: number; meta?: Record<string, unknown> },
  ): Promise<CallToolResult>;
  status(): McpServerStatus;
  /** Resolves once the first attempt (successful or not) is over. */
  readonly started: Promise<void>;
  close(): Promise<void>;
}

/** Thrown when a call cannot be made because the server is not connected. */
export class McpServerDownError extends Error {
  readonly code = 'MCP_SERVER_DOWN';
  constructor(server: string, state: McpServerState, lastError: string | undefined) {
    super(
      `the MCP server ${server} is ${state === 'closed' ? 'stopped' : 'not connected (it is being restarted)'}${lastError ? `: ${lastError}` : ''}`,
    );
    this.name = 'McpServerDownError';
  }
}

/**
 * The values in a server's entry that may be credentials (header values, env values, the URL's
 * user info and query), replaced by `[Redacted]` in whatever the bot says about the server: its
 * health row, log lines and the server's own stderr. Config secrets are scrubbed by the logger and
 * /health already; these live only in the MCP servers file.
 */
export function serverRedactor(server: McpServerConfig): (text: string) => string {
  const values = new Set<string>();
  if (server.transport === 'http') {
    for (const value of Object.values(server.headers ?? {})) {
      values.add(value);
      // `Bearer <token>`: the token alone may appear too.
      const token = value.split(/\s+/).at(-1);
      if (token !== undefined) values.add(token);
    }
    const url = new URL(server.url);
    for (const value of url.searchParams.values()) values.add(value);
    if (url.password !== '') values.add(decodeURIComponent(url.password));
    if (url.username !== '') values.add(decodeURIComponent(url.username));
  } else {
    for (const value of Object.values(server.env ?? {})) values.add(value);
  }
  // Short values would hit ordinary words; longest first so a token inside a header value goes too.
  const secrets = [...values].filter((value) => value.length >= 6).sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('[Redacted]'), text);
}

/** A response body cut off (and the request failed) once it passes `maxBytes`. */
function boundedBody(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > maxBytes) controller.error(new Error(`the server sent more than ${maxBytes} bytes in one answer`));
        else controller.enqueue(chunk);
      },
    }),
  );
}

function transportFor(
  server: McpServerConfig,
  {
    log,
    redact,
    maxMessageBytes,
  }: { log: Logger | undefined; redact: (text: string) => string; maxMessageBytes: number },
): Transport {
  if (server.transport === 'http') {
    return new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: server.headers ?? {} },
      // Answers to calls (POST) are bounded like a stdio message; the long-lived GET stream of
      // server notifications is left alone.
      fetch: async (url, init) => {
        const response = await fetch(url, init);
        if (init?.method !== 'POST' || response.body === null) return response;
        return new Response(boundedBody(response.body, maxMessageBytes), {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      },
    });
  }
  const transport = new StdioClientTransport({
    command: server.command,
    ...(server.args === undefined ? {} : { args: server.args }),
    ...(server.env === undefined ? {} : { env: server.env }),
    ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
    // Piped into our log (cut and redacted) instead of the service's own stderr.
    stderr: 'pipe',
    // The SDK drops the connection when a message grows past this.
    maxBufferSize: maxMessageBytes,
  });
  transport.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() !== '') {
        log?.debug({ mcpServer: server.name, stderr: redact(line.slice(0, STDERR_LINE_MAX)) }, 'mcp server stderr');
      }
    }
  });
  return transport;
}

/**
 * A supervised connection to one MCP server over the official SDK's client: connects and lists
 * the tools (within `connectTimeoutMs`); when the connection is lost (a stdio server exits or
 * crashes, an HTTP server stops answering) or a start fails, it connects again after a back-off
 * that doubles from `restartInitialMs` up to `restartMaxMs`, for as long as the bot runs. Calls
 * while it is down fail at once with McpServerDownError instead of waiting.
 *
 * @example
 * const connection = createMcpConnection({ server, log });
 * await connection.started;
 * const result = await connection.callTool('search', { q: 'x' }, { signal, timeoutMs: 20_000 });
 */
export function createMcpConnection({
  server,
  log,
  connectTimeoutMs = 10_000,
  restartInitialMs = 500,
  restartMaxMs = 60_000,
  maxMessageBytes = 4_000_000,
  onTools,
}: McpConnectionOptions): McpConnection {
  const redact = serverRedactor(server);
  let state: McpServerState = 'connecting';
  let client: Client | undefined;
  let tools: McpTool[] = [];
  let restarts = 0;
  let failures = 0;
  let lastError: string | undefined;
  let nextAttemptAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;

  function scheduleRestart(reason: string) {
    if (state === 'closed') return;
    failures += 1;
    lastError = redact(reason).slice(0, 500);
    state = 'restarting';
    const delay = backoffDelay(failures, { initialMs: restartInitialMs, maxMs: restartMaxMs, jitter: 0.2 });
    nextAttemptAt = Date.now() + delay;
    log?.warn({ mcpServer: server.name, reason: lastError, retryInMs: delay, failures }, 'mcp server down: restarting');
    clearTimeout(timer);
    timer = setTimeout(() => {
      restarts += 1;
      void connect();
    }, delay);
    timer.unref();
  }

  async function listTools(current: Client): Promise<McpTool[]> {
    const found: McpTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page += 1) {
      const result = await current.listTools(cursor === undefined ? {} : { cursor }, { timeout: connectTimeoutMs });
      found.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined || found.length >= MAX_TOOLS) break;
    }
    return found.slice(0, MAX_TOOLS);
  }

  async function connect(): Promise<void> {
    if (state === 'closed') return;
    state = failures === 0 && restarts === 0 ? 'connecting' : 'restarting';
    nextAttemptAt = undefined;
    const current = new Client(
      { name: 'feishu-agent-bot', version: packageVersion() },
      {
        capabilities: {},
        // A server that adds or removes tools says so: the agents are offered the new list from then on.
        listChanged: {
          tools: {
            onChanged: (error, listed) => {
              if (error !== null || listed === null || client !== current || state !== 'ready') return;
              tools = listed.slice(0, MAX_TOOLS);
              log?.info({ mcpServer: server.name, tools: tools.map((tool) => tool.name) }, 'mcp server tools changed');
              onTools?.(tools);
            },
          },
        },
      },
    );
    let settled = false;
    // Why the transport gave up, when it said so before closing (a message too large).
    let transportError: string | undefined;
    current.onclose = () => {
      // Only the connection in use matters; an old one closing after a restart does not.
      if (client !== current || state === 'closed') return;
      client = undefined;
      scheduleRestart(
        settled
          ? `the connection closed (${transportError ?? 'the server exited or stopped answering'})`
          : 'closed while starting',
      );
    };
    current.onerror = (error) => {
      log?.debug({ mcpServer: server.name, err: redact(errorMessage(error)) }, 'mcp transport error');
      if (/exceeded maximum size|more than \d+ bytes/.test(errorMessage(error))) transportError = errorMessage(error);
      // The SDK's HTTP client reports a response stream cut mid-call only here (it has no error
      // code for it) and leaves the call waiting; closing the client ends the call at once and
      // onclose restarts the connection.
      if (server.transport === 'http' && client === current && /SSE stream disconnected/.test(errorMessage(error))) {
        void current.close().catch(() => undefined);
      }
    };
    try {
      client = current;
      await current.connect(transportFor(server, { log, redact, maxMessageBytes }), { timeout: connectTimeoutMs });
      tools = await listTools(current);
      settled = true;
      if ((state as McpServerState) === 'closed') {
        await current.close().catch(() => undefined);
        return;
      }
      state = 'ready';
      failures = 0;
      log?.info({ mcpServer: server.name, tools: tools.map((tool) => tool.name) }, 'mcp server connected');
      onTools?.(tools);
    } catch (error) {
      settled = true;
      if (client === current) client = undefined;
      await current.close().catch(() => undefined);
      scheduleRestart(`could not start: ${errorMessage(error)}`);
    }
  }

  const started = connect();

  return {
    name: server.name,
    redact,
    started,
    tools: () => tools,
    async callTool(name, input, { signal, timeoutMs, meta }) {
      const current = client;
      if (state !== 'ready' || current === undefined) throw new McpServerDownError(server.name, state, lastError);
      const params = { name, arguments: (input ?? {}) as Record<string, unknown> };
      try {
        return (await current.callTool(meta === undefined ? params : { ...params, _meta: meta }, undefined, {
          signal,
          timeout: timeoutMs,
        })) as CallToolResult;
      } catch (error) {
        // An HTTP server that stopped answering has no connection to lose: start again from here.
        if (server.transport === 'http' && !signal.aborted && error instanceof TypeError && client === current) {
          client = undefined;
          void current.close().catch(() => undefined);
          scheduleRestart(`stopped answering: ${errorMessage(error)}`);
        }
        throw error;
      }
    },
    status: () => ({
      name: server.name,
      transport: server.transport,
      state,
      tools: tools.length,
      restarts,
      ...(lastError === undefined ? {} : { lastError }),
      ...(nextAttemptAt === undefined || state !== 'restarting'
        ? {}
        : { nextAttemptAt: new Date(nextAttemptAt).toISOString() }),
    }),
    async close() {
      state = 'closed';
      clearTimeout(timer);
      const current = client;
      client = undefined;
      await current?.close().catch(() => undefined);
    },
  };
}
