import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log.js';
import type { AnyToolDefinition } from '../tools/tool-definition.js';
import { createMcpConnection, type McpConnection, type McpServerStatus } from './mcp-connection.js';
import type { McpServerConfig } from './mcp-servers-file.js';
import { mcpToolDefinition, mcpToolName } from './mcp-tools.js';

/** A server's health row: the connection's state plus what is offered to whom. */
export interface McpServerHealth extends McpServerStatus {
  /** Tools offered to the agents. */
  offeredTools: number;
  /** Tools not offered because they may change something (no `readOnlyHint`, no `"readOnly": true`). */
  skippedTools: number;
  /** Who gets the tools: `manager`, or the specialists the entry lists. */
  agents: string[];
}

/** Every configured MCP server: their tools per agent, their health rows, and shutting them down. */
export interface McpHub {
  /** The MCP tools the named agent (`manager` or a specialist) is offered right now. */
  toolsFor(agent: string): readonly AnyToolDefinition[];
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
}

interface ServerEntry {
  server: McpServerConfig;
  connection: McpConnection;
  definitions: AnyToolDefinition[];
  skipped: number;
}

/**
 * Starts a supervised connection per MCP server and keeps each server's tools as tool
 * definitions. A server without `specialists` gives its tools to the manager; with them, only to
 * those specialists. Tools are offered when the server marks them read-only (`readOnlyHint`) or
 * the entry says `"readOnly": true`: write tools need the user's approval first, which the reply
 * path cannot ask for yet. Names are `mcp<Server><Tool>`, made unique.
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
    for (const tool of tools) {
      if (server.readOnly !== true && tool.annotations?.readOnlyHint !== true) {
        skipped += 1;
        continue;
      }
      const base = mcpToolName(server.name, tool.name);
      let name = base;
      for (let suffix = 2; taken.has(name); suffix += 1) name = `${base.slice(0, 60)}${suffix}`;
      taken.add(name);
      definitions.push(
        mcpToolDefinition({ name, server: server.name, tool, connection: entry.connection, timeoutMs: callTimeoutMs }),
      );
    }
    if (skipped > 0) {
      log?.warn(
        { mcpServer: server.name, skipped },
        'mcp tools not offered: not marked read-only (set "readOnly": true on the server to vouch for them)',
      );
    }
    entry.definitions = definitions;
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
    statuses: () =>
      entries.map((entry) => ({
        ...entry.connection.status(),
        offeredTools: entry.definitions.length,
        skippedTools: entry.skipped,
        agents: agentsOf(entry.server),
      })),
    async close() {
      await Promise.all(entries.map((entry) => entry.connection.close()));
    },
  };
}
