/**
 * A real MCP server for the tests, on the official SDK's `McpServer`: the same tools over stdio
 * (`test/fixtures/mcp/stdio-server.ts`, started by the bot as a child process) and over
 * streamable HTTP (`startHttpMcpServer`, in the test's own process).
 *
 * Tools: `lookup_order` (read-only), `list_parts` (read-only, 150 text parts), `broken_tool`
 * (read-only, answers `isError`), `hang` (read-only, never answers), `die` (read-only, the server
 * goes away mid-call), `flood` (read-only, about 2 MB of text), `add_tool` (read-only, registers `new_tool` at run time), `delete_order`
 * (not marked read-only: offered only behind the person's approval; the HTTP server records each
 * order it deleted in `deletedOrders`, and each call's `_meta` in `deleteMeta`).
 *
 * @example
 * const http = await startHttpMcpServer({ token: 'secret' });
 * // { "mcpServers": { "orders": { "url": http.url, "headers": { "authorization": "Bearer secret" } } } }
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const ORDERS: Record<string, string> = {
  'A-1001': 'Order A-1001: 3 × desk lamp, shipped on 3 May by SF Express, tracking SF1234567890.',
  'A-1002': 'Order A-1002: 1 × office chair, waiting for stock, expected 20 May.',
};

/** A new server with the fixture tools; `die` calls `onDie` (exit the process, close the HTTP server). */
export function fixtureMcpServer({
  onDie,
  instance = randomUUID().slice(0, 8),
  deletedOrders = [],
  deleteMeta = [],
}: {
  onDie: () => void;
  instance?: string;
  /** Where `delete_order` records the ids it deleted (the test asserts what the server saw). */
  deletedOrders?: string[];
  /** Where `delete_order` records the request's `_meta` (the client's idempotency key travels there). */
  deleteMeta?: Array<Record<string, unknown> | undefined>;
}) {
  const server = new McpServer({ name: 'orders-fixture', version: '1.0.0' });
  const readOnly = { readOnlyHint: true };
  server.registerTool(
    'lookup_order',
    {
      description: 'Looks up an order by its id (like A-1001): items, shipping state, tracking number.',
      inputSchema: { orderId: z.string().describe('The order id, e.g. A-1001') },
      annotations: readOnly,
    },
    async ({ orderId }) => ({
      content: [{ type: 'text', text: `${ORDERS[orderId] ?? `No order ${orderId}.`} (server ${instance})` }],
    }),
  );
  server.registerTool(
    'list_parts',
    { description: 'Lists every spare part in stock.', annotations: readOnly },
    async () => ({
      content: Array.from({ length: 150 }, (_, index) => ({ type: 'text' as const, text: `part P-${index + 1}` })),
    }),
  );
  server.registerTool('broken_tool', { description: 'Always fails.', annotations: readOnly }, async () => ({
    isError: true,
    content: [{ type: 'text', text: 'database connection refused' }],
  }));
  server.registerTool(
    'hang',
    { description: 'Never answers.', annotations: readOnly },
    () => new Promise(() => undefined),
  );
  server.registerTool(
    'die',
    { description: 'The server goes away during the call.', annotations: readOnly },
    async () => {
      setTimeout(onDie, 50);
      return new Promise(() => undefined);
    },
  );
  server.registerTool(
    'flood',
    { description: 'Answers with about 2 MB of text.', annotations: readOnly },
    async () => ({ content: [{ type: 'text', text: 'x'.repeat(2_000_000) }] }),
  );
  server.registerTool(
    'add_tool',
    {
      description: 'Adds the tool new_tool to this server (it tells the client the list changed).',
      annotations: readOnly,
    },
    async () => {
      server.registerTool('new_tool', { description: 'Added at run time.', annotations: readOnly }, async () => ({
        content: [{ type: 'text', text: 'new tool answers' }],
      }));
      return { content: [{ type: 'text', text: 'added new_tool' }] };
    },
  );
  server.registerTool(
    'delete_order',
    { description: 'Deletes an order.', inputSchema: { orderId: z.string() } },
    async ({ orderId }, extra) => {
      if (deletedOrders.length < 100) deletedOrders.push(orderId);
      if (deleteMeta.length < 100) deleteMeta.push(extra._meta === undefined ? undefined : { ...extra._meta });
      return { content: [{ type: 'text', text: `deleted ${orderId}` }] };
    },
  );
  return server;
}

/**
 * The fixture over streamable HTTP (stateless: a server and transport per request) on
 * 127.0.0.1, optionally requiring `Authorization: Bearer <token>`. `die` closes every connection
 * and stops listening; `restart()` listens again on the same port.
 */
export async function startHttpMcpServer({ token }: { token?: string } = {}) {
  let port = 0;
  let httpServer: Server;
  const authorizations: Array<string | undefined> = [];
  const deletedOrders: string[] = [];
  const deleteMeta: Array<Record<string, unknown> | undefined> = [];
  const listen = async () => {
    httpServer = createServer(async (request, response) => {
      if (authorizations.length >= 100) authorizations.shift();
      authorizations.push(request.headers.authorization);
      if (token !== undefined && request.headers.authorization !== `Bearer ${token}`) {
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      const server = fixtureMcpServer({ onDie: () => void stop(), deletedOrders, deleteMeta });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      response.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request, response);
    });
    await new Promise<void>((resolve) => httpServer.listen(port, '127.0.0.1', resolve));
    port = (httpServer.address() as AddressInfo).port;
  };
  const stop = async () => {
    httpServer.closeAllConnections();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  };
  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}/mcp`;
    },
    authorizations,
    deletedOrders,
    deleteMeta,
    restart: listen,
    close: () => (httpServer.listening ? stop() : Promise.resolve()),
  };
}

export type HttpMcpServer = Awaited<ReturnType<typeof startHttpMcpServer>>;
