import { createMcpHub } from '../agents/mcp/mcp-hub.js';
import { loadMcpServersFile } from '../agents/mcp/mcp-servers-file.js';
import { createSearchProvider } from '../agents/tools/web/create-search-provider.js';
import { errorMessage } from '../util/error-message.js';
import type { DoctorCheck } from './doctor-check.js';

/** Web search answers a query with the configured provider, key and base URL. */
export const webSearchCheck: DoctorCheck = {
  id: 'web-search',
  title: 'Web search',
  async run({ config, timeouts }) {
    const provider = createSearchProvider(config.search);
    if (provider === undefined)
      return { status: 'skip', summary: 'SEARCH_PROVIDER not set: the webSearch tool is off' };
    try {
      const hits = await provider.search('Feishu open platform', {
        maxResults: 1,
        signal: AbortSignal.timeout(timeouts.feishuMs),
      });
      return {
        status: 'pass',
        summary: `${provider.name} answered (${hits.length === 0 ? 'no results' : `first: ${hits[0]!.url}`})`,
      };
    } catch (error) {
      return {
        status: 'warn',
        summary: `${provider.name} did not answer a test search: ${errorMessage(error)}`,
        fix: 'Check SEARCH_API_KEY and SEARCH_BASE_URL (for searxng: the instance must enable the json format). The bot runs without web search meanwhile.',
      };
    }
  },
};

/** Every MCP server of MCP_SERVERS_FILE starts (or is reached) and lists its tools. */
export const mcpServersCheck: DoctorCheck = {
  id: 'mcp-servers',
  title: 'MCP servers',
  async run({ config, log, timeouts }) {
    const file = config.mcp.serversFile;
    if (file === undefined) return { status: 'skip', summary: 'MCP_SERVERS_FILE not set' };
    let servers: Awaited<ReturnType<typeof loadMcpServersFile>>;
    try {
      servers = await loadMcpServersFile(file);
    } catch (error) {
      return { status: 'fail', summary: errorMessage(error), fix: 'Fix the file: the bot refuses to start with it.' };
    }
    const hub = createMcpHub({
      servers,
      log,
      connectTimeoutMs: Math.min(config.mcp.connectTimeoutMs, timeouts.connectMs),
      // One attempt each is the question here; the bot itself keeps retrying.
      restartInitialMs: 3_600_000,
    });
    try {
      await hub.started;
      const rows = hub.statuses();
      const details = rows.map((row) =>
        row.state === 'ready'
          ? `✔ ${row.name} (${row.transport}): ${row.offeredTools} tools offered to ${row.agents.join(', ')}${row.writeTools > 0 ? ` (${row.writeTools} may write: each call approved first)` : ''}${row.skippedTools > 0 ? `, ${row.skippedTools} not (may write, "writeTools": false)` : ''}`
          : `✘ ${row.name} (${row.transport}): ${row.lastError ?? row.state}`,
      );
      const down = rows.filter((row) => row.state !== 'ready');
      return down.length === 0
        ? { status: 'pass', summary: `${rows.length} connected`, details }
        : {
            status: 'warn',
            summary: `${down.length} of ${rows.length} not connected: ${down.map((row) => row.name).join(', ')}`,
            details,
            fix: 'Check the command (installed, runs by hand) or the URL and headers; the bot starts without those tools and keeps retrying.',
          };
    } finally {
      await hub.close();
    }
  },
};
