import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log.js';
import type { AnyToolDefinition } from '../tools/tool-definition.js';
import type { McpCallLedger } from './mcp-call-ledger.js';
import { createMcpConnection, type McpConnection, type McpServerStatus } from './mcp-connection.js';
import type { McpServerConfig } from './mcp-servers-file.js';
import { mcpToolDefinition, mcpToolName } from './mcp-tools.js';

/** A server's health row: the connection's state plus what is offered to whom. */
export interface McpServerHealth extends McpServerStatus {
  /** Tools offered to the agents (those that may write included). */
  offeredTools: number;
  /** Of the offered tools, those that may change something and run only after a person approves. */
  writeTools: number;
  /** Tools not offered: they may change something and the entry says `"writeTools": false`. */
  skippedTools: number;
  /** Who gets the tools: `manager`, or the specialists the entry lists. */
  agents: string[];
}

/** Every configured MCP server: their tools per agent, their health rows, and shutting them down. */
export interface McpHub {
  /** The MCP tools the named agent (`manager` or a specialist) is offered right now. */
  toolsFor(agent: string): readonly AnyToolDefinition[];
  /** The offered MCP tool of that name (for its approval summary), if any. */
  definition(name: string): AnyToolDefinition | undefined;
  statuses(): McpServerHealth[];
  /** Resolves once every server's first connection attempt is over (connected or not). */
  readonly started: Promise<void>;
  close(): Promise<void>;
}

export interface McpHubOptions {
  servers: readonly McpServerConfig[];
  log?: Logger;
  /** One tool call's deadline (the tool runtime's TOOL_TIMEOUT_MS). */
  callTimeoutMs?: number;
  connectTimeoutMs?: number;
  restartInitialMs?: number;
  restartMaxMs?: number;
  /** Bytes one message from a server may have at most (MCP_MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number;
  /** Names the MCP tools must not take (the built-in tools). */
  reservedNames?: readonly string[];
  /** Records approved write calls so a run continued after a crash does not repeat them. */
  ledger?: McpCallLedger | undefined;
}

interface ServerEntry {
  server: McpServerConfig;
  connection: McpConnection;
  definitions: AnyToolDefinition[];
  writes: number;
  skipped: number;
}

/**
 * Starts a supervised connection per MCP server and keeps each server's tools as tool
 * definitions. A server without `specialists` gives its tools to the manager; with them, only to
 * those specialists. A tool the server marks read-only (`readOnlyHint`), or any tool of an entry
 * with `"readOnly": true`, is a read tool; any other may change something and becomes a write
 * tool with an approval summary ("Run <server>.<tool>" and its arguments), which the tool runtime
 * offers only where a person can approve (the manager in a chat) — or is not offered at all when
 * the entry says `"writeTools": false`. Names are `mcp<Server><Tool>`, made unique.
 *
 * @example
 * const hub = createMcpHub({ servers: await loadMcpServersFile('mcp.json'), log, callTimeoutMs: 20_000 });
 * await hub.started;
 * runtime.toolSet(['currentTime'], request); // plus hub.toolsFor('manager') through the runtime's extraTools
 */
export function createMcpHub({
  servers,
  log,
  callTimeoutMs = 20_000,
  connectTimeoutMs,
  restartInitialMs,
  restartMaxMs,
  maxMessageBytes,
  reservedNames = [],
  ledger,
}: McpHubOptions): McpHub {
  const entries: ServerEntry[] = [];

  /** Turns a server's listed tools into the definitions it offers. */
  function offer(entry: ServerEntry, tools: readonly McpTool[]): void {
    const { server } = entry;
    const taken = new Set([
      ...reservedNames,
      ...entries.filter((other) => other !== entry).flatMap((other) => other.definitions.map((each) => each.name)),
    ]);
    const definitions: AnyToolDefinition[] = [];
    let skipped = 0;
    let writes = 0;
    for (const tool of tools) {
      const access = server.readOnly === true || tool.annotations?.readOnlyHint === true ? 'read' : 'write';
      if (access === 'write' && server.writeTools === false) {
        skipped += 1;
        continue;
      }
      if (access === 'write') writes += 1;
      const base = mcpToolName(server.name, tool.name);
      let name = base;
      for (let suffix = 2; taken.has(name); suffix += 1) name = `${base.slice(0, 60)}${suffix}`;
      taken.add(name);
      definitions.push(
        mcpToolDefinition({
          name,
          server: server.name,
          tool,
          connection: entry.connection,
          timeoutMs: callTimeoutMs,
          access,
          ledger,
        }),
      );
    }
    if (skipped > 0) {
      log?.info({ mcpServer: server.name, skipped }, 'mcp tools not offered: they may write and "writeTools" is false');
    }
    entry.definitions = definitions;
    entry.writes = writes;
    entry.skipped = skipped;
  }

  for (const server of servers) {
    const entry: ServerEntry = {
      server,
      // onTools runs only after the connection has connected, by when `connection` is assigned.
      connection: createMcpConnection({
        server,
        ...(log === undefined ? {} : { log }),
        ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
        ...(restartInitialMs === undefined ? {} : { restartInitialMs }),
        ...(restartMaxMs === undefined ? {} : { restartMaxMs }),
        ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
        onTools: (tools) => offer(entry, tools),
      }),
      definitions: [],
      writes: 0,
      skipped: 0,
    };
    entries.push(entry);
  }
  const agentsOf = (server: McpServerConfig) =>
    server.specialists === undefined ? ['manager'] : [...server.specialists];

  return {
    started: Promise.all(entries.map((entry) => entry.connection.started)).then(() => undefined),
    toolsFor: (agent) =>
      entries.filter((entry) => agentsOf(entry.server).includes(agent)).flatMap((entry) => entry.definitions),
    definition: (name) => entries.flatMap((entry) => entry.definitions).find((definition) => definition.name === name),
    statuses: () =>
      entries.map((entry) => ({
        ...entry.connection.status(),
        offeredTools: entry.definitions.length,
        writeTools: entry.writes,
        skippedTools: entry.skipped,
        agents: agentsOf(entry.server),
      })),
    async close() {
      await Promise.all(entries.map((entry) => entry.connection.close()));
    },
  };
}
