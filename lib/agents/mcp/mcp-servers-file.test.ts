import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMcpServersFile, McpServersFileError, parseMcpServers } from './mcp-servers-file.js';

const parse = (value: unknown, knownSpecialists = ['documents', 'scheduler']) =>
  parseMcpServers(JSON.stringify(value), { path: 'mcp.json', knownSpecialists });

function problems(value: unknown): string[] {
  try {
    parse(value);
  } catch (error) {
    expect(error).toBeInstanceOf(McpServersFileError);
    return (error as McpServersFileError).problems;
  }
  throw new Error('expected the file to be refused');
}

describe('MCP servers file', () => {
  it('reads the common mcpServers shape: stdio commands and HTTP URLs, with specialists', () => {
    expect(
      parse({
        mcpServers: {
          files: {
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv/docs'],
            env: { LOG: '1' },
          },
          tickets: {
            url: 'https://mcp.example.com/mcp',
            headers: { authorization: 'Bearer x' },
            specialists: ['documents'],
          },
        },
      }),
    ).toEqual([
      {
        name: 'files',
        transport: 'stdio',
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv/docs'],
        env: { LOG: '1' },
      },
      {
        name: 'tickets',
        transport: 'http',
        url: 'https://mcp.example.com/mcp',
        headers: { authorization: 'Bearer x' },
        specialists: ['documents'],
      },
    ]);
  });

  it('refuses unknown fields with a clear message naming the server, the field and what is allowed', () => {
    expect(problems({ mcpServers: { files: { command: 'x', transport: 'stdio', timeout: 5 } } })).toEqual([
      'mcpServers.files: unknown fields "transport", "timeout" (allowed: command, args, env, cwd | url, headers; specialists, readOnly, writeTools)',
    ]);
    // The opt-out is spelled exactly; a near miss is refused rather than silently offering write tools.
    expect(problems({ mcpServers: { files: { command: 'x', writeTool: false } } })).toEqual([
      'mcpServers.files: unknown field "writeTool" (allowed: command, args, env, cwd | url, headers; specialists, readOnly, writeTools)',
    ]);
    expect(problems({ mcpServers: { files: { url: 'https://a.example/mcp', writeTools: 'no' } } })).toEqual([
      'mcpServers.files.writeTools: Invalid input: expected boolean, received string',
    ]);
    expect(parse({ mcpServers: { files: { command: 'x', writeTools: false } } })).toEqual([
      { name: 'files', transport: 'stdio', command: 'x', writeTools: false },
    ]);
    expect(problems({ mcpServers: {}, servers: [] })).toEqual([
      '(top level): unknown field "servers" (allowed: mcpServers)',
    ]);
  });

  it('lists every problem at once: both or neither of command and url, bad names, unknown specialists, bad URLs', () => {
    expect(
      problems({
        mcpServers: {
          both: { command: 'x', url: 'https://a.example/mcp' },
          neither: { args: ['a'] },
          'Bad Name': { command: 'x' },
          crm: { url: 'ftp://crm.example/mcp' },
          sales: { command: 'x', specialists: ['documents', 'accountant'] },
        },
      }),
    ).toEqual([
      'mcpServers.both: give either "command" (a stdio server) or "url" (a streamable HTTP server)',
      'mcpServers.neither: give either "command" (a stdio server) or "url" (a streamable HTTP server)',
      'mcpServers.Bad Name: the name must start with a lower-case letter and use only a-z, 0-9, _ or - (at most 32)',
      'mcpServers.crm.url: must be an http(s) URL',
      'mcpServers.sales.specialists: unknown specialist "accountant" (available: documents, scheduler)',
    ]);
  });

  it('names the file in the error, and says when it is missing or not JSON', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mcp-file-'));
    const broken = join(directory, 'mcp.json');
    writeFileSync(broken, '{ "mcpServers": ');
    await expect(loadMcpServersFile(broken)).rejects.toThrow(`Invalid MCP servers file ${broken}:\n  - not valid JSON`);
    await expect(loadMcpServersFile(join(directory, 'absent.json'))).rejects.toThrow(/file not found/);
  });
});
