import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errorMessage } from '../../util/error-message.js';

/** Server names become tool-name prefixes and health rows: short, lower case. */
const SERVER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

const specialists = z.array(z.string().min(1).max(40)).max(50).optional();
/** The operator vouches that every tool of this server only reads (tools are otherwise offered only with readOnlyHint). */
const readOnly = z.boolean().optional();
/** `false`: tools that may change something are not offered at all (default: offered behind the person's approval). */
const writeTools = z.boolean().optional();

const stdioServer = z
  .object({
    command: z.string().min(1).max(1_000),
    args: z.array(z.string().max(4_000)).max(100).optional(),
    env: z.record(z.string(), z.string().max(10_000)).optional(),
    cwd: z.string().min(1).max(1_000).optional(),
    specialists,
    readOnly,
    writeTools,
  })
  .strict();

const httpServer = z
  .object({
    url: z
      .string()
      .url()
      .refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL'),
    headers: z.record(z.string(), z.string().max(10_000)).optional(),
    specialists,
    readOnly,
    writeTools,
  })
  .strict();

const serversFile = z
  .object({
    mcpServers: z.record(z.string(), z.unknown()),
  })
  .strict();

export type McpServerConfig =
  | ({ name: string; transport: 'stdio' } & z.output<typeof stdioServer>)
  | ({ name: string; transport: 'http' } & z.output<typeof httpServer>);

/** An MCP servers file that cannot be used; the message names the file and every bad field. */
export class McpServersFileError extends Error {
  readonly code = 'MCP_SERVERS_FILE_INVALID';
  readonly path: string;
  readonly problems: string[];
  constructor(path: string, problems: string[]) {
    super(`Invalid MCP servers file ${path}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'McpServersFileError';
    this.path = path;
    this.problems = problems;
  }
}

function issues(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.');
    const place = where === '' ? '(top level)' : where;
    if (issue.code === 'unrecognized_keys') {
      const allowed =
        where === '' ? 'mcpServers' : 'command, args, env, cwd | url, headers; specialists, readOnly, writeTools';
      return `${place}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')} (allowed: ${allowed})`;
    }
    return `${place}: ${issue.message}`;
  });
}

/**
 * Parses an MCP servers file in the common shape:
 * `{ "mcpServers": { "name": { "command", "args", "env" } | { "url", "headers" } } }`, each entry
 * optionally with `"specialists": [...]` (only they get its tools), `"readOnly": true` and
 * `"writeTools": false` (its tools that may change something are not offered).
 * Unknown fields, a server with both or neither of `command` and `url`, and (given `specialists`)
 * names of specialists that do not exist are refused, all problems at once.
 *
 * @example
 * const servers = parseMcpServers(text, { path: 'mcp.json', knownSpecialists: ['documents'] });
 */
export function parseMcpServers(
  json: string,
  { path, knownSpecialists }: { path: string; knownSpecialists?: readonly string[] },
): McpServerConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new McpServersFileError(path, [`not valid JSON: ${errorMessage(error)}`]);
  }
  const file = serversFile.safeParse(raw);
  if (!file.success) throw new McpServersFileError(path, issues('', file.error));
  const problems: string[] = [];
  const servers: McpServerConfig[] = [];
  const entries = Object.entries(file.data.mcpServers);
  if (entries.length > 20) problems.push('mcpServers: at most 20 servers');
  for (const [name, entry] of entries.slice(0, 20)) {
    const where = `mcpServers.${name}`;
    if (!SERVER_NAME.test(name)) {
      problems.push(
        `${where}: the name must start with a lower-case letter and use only a-z, 0-9, _ or - (at most 32)`,
      );
      continue;
    }
    const hasCommand = typeof entry === 'object' && entry !== null && 'command' in entry;
    const hasUrl = typeof entry === 'object' && entry !== null && 'url' in entry;
    if (hasCommand === hasUrl) {
      problems.push(`${where}: give either "command" (a stdio server) or "url" (a streamable HTTP server)`);
      continue;
    }
    const parsed = hasCommand ? stdioServer.safeParse(entry) : httpServer.safeParse(entry);
    if (!parsed.success) {
      problems.push(...issues(where, parsed.error));
      continue;
    }
    for (const specialist of parsed.data.specialists ?? []) {
      if (knownSpecialists !== undefined && !knownSpecialists.includes(specialist)) {
        problems.push(
          `${where}.specialists: unknown specialist "${specialist}" (available: ${knownSpecialists.join(', ')})`,
        );
      }
    }
    servers.push(
      hasCommand
        ? { name, transport: 'stdio', ...(parsed.data as z.output<typeof stdioServer>) }
        : { name, transport: 'http', ...(parsed.data as z.output<typeof httpServer>) },
    );
  }
  if (problems.length > 0) throw new McpServersFileError(path, problems);
  return servers;
}

/** Reads and validates MCP_SERVERS_FILE. */
export async function loadMcpServersFile(
  path: string,
  options: { knownSpecialists?: readonly string[] } = {},
): Promise<McpServerConfig[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as { code?: unknown }).code === 'ENOENT' ? 'file not found' : errorMessage(error);
    throw new McpServersFileError(path, [reason]);
  }
  return parseMcpServers(text, { path, ...options });
}
