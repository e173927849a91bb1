import type { CallToolResult, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Language } from '../../i18n/language.js';
import { errorMessage } from '../../util/error-message.js';
import { approvalTexts } from '../tools/approval-texts.js';
import { changeKey } from '../tools/feishu/idempotency-key.js';
import { type AnyToolDefinition, type ApprovalSummary, defineTool, type ToolAccess } from '../tools/tool-definition.js';
import { ToolError } from '../tools/tool-error.js';
import { itemsNote } from '../tools/tool-result.js';
import { IDEMPOTENCY_META_KEY, type McpCallLedger } from './mcp-call-ledger.js';
import { type McpConnection, McpServerDownError } from './mcp-connection.js';

/** Tool descriptions from a server are cut to this: they go into every model request. */
const DESCRIPTION_MAX = 1_000;

/** Arguments an approval card lists at most; the rest are counted in one last field. */
const APPROVAL_FIELDS_MAX = 20;
/** Characters of one argument's name and value on the approval card. */
const APPROVAL_LABEL_MAX = 60;
const APPROVAL_VALUE_MAX = 500;

/** `read_file` → `ReadFile`: the parts of a name as camel-case words, letters and digits only. */
function pascal(text: string): string {
  return text
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/**
 * The registry name of an MCP tool: `mcp` + server + tool in camel case, at most 64 characters
 * (OpenAI's limit), e.g. server `files`, tool `read_file` → `mcpFilesReadFile`.
 */
export function mcpToolName(server: string, tool: string): string {
  return `mcp${pascal(server)}${pascal(tool) || 'Tool'}`.slice(0, 64);
}

/** The tool's JSON Schema as zod (the AI SDK sends it to the model and checks arguments with it). */
function inputSchemaOf(tool: McpTool): z.ZodType {
  try {
    return z.fromJSONSchema(tool.inputSchema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    // A schema zod cannot read: any object, and the server checks the arguments itself.
    return z.record(z.string(), z.unknown());
  }
}

/**
 * A tool result as text the model can read: text parts as they are, resource links as Markdown
 * links, embedded text resources as text, images, audio and binary resources named but left out;
 * at most `maxItems` parts; structured content as JSON when there is no text. A result the
 * server marks as an error becomes a ToolError the model reads as such.
 */
export function mcpResultText(result: CallToolResult & { toolResult?: unknown }, maxItems: number): string {
  const content = Array.isArray(result.content) ? result.content : [];
  const parts: string[] = [];
  for (const item of content.slice(0, maxItems)) {
    switch (item.type) {
      case 'text':
        parts.push(item.text);
        break;
      case 'image':
      case 'audio':
        parts.push(`[${item.type} (${item.mimeType}) not shown]`);
        break;
      case 'resource_link':
        parts.push(`[${item.title ?? item.name}](${item.uri})`);
        break;
      case 'resource':
        parts.push('text' in item.resource ? item.resource.text : `[binary resource ${item.resource.uri} not shown]`);
        break;
    }
  }
  if (content.length > maxItems) parts.push(itemsNote(maxItems, content.length, 'parts'));
  if (parts.length === 0 && result.structuredContent !== undefined)
    parts.push(JSON.stringify(result.structuredContent));
  if (parts.length === 0 && result.toolResult !== undefined) parts.push(JSON.stringify(result.toolResult));
  const text = parts.join('\n\n');
  if (result.isError === true) {
    throw new ToolError('BAD_INPUT', `the tool reported an error: ${text.slice(0, 1_000) || '(no details)'}`, {
      advice: 'Fix the arguments and try once more, or tell the user what failed; do not guess the result.',
    });
  }
  return text;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * What the person approves before a tool that may change something runs: "Run <server>.<tool>"
 * on the server, with every argument as a field (strings as they are, anything else as JSON),
 * each cut to 500 characters and at most 20 of them, the rest counted.
 *
 * @example
 * mcpApprovalSummary('orders', 'delete_order', { orderId: 'A-1' });
 * // { action: 'Run orders.delete_order', target: 'MCP server "orders"', fields: [{ label: 'orderId', value: 'A-1' }] }
 */
export function mcpApprovalSummary(
  server: string,
  tool: string,
  input: unknown,
  language: Language = 'en',
): ApprovalSummary {
  const say = approvalTexts(language);
  const entries =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? Object.entries(input)
      : input === undefined
        ? []
        : [[say.labels.input, input] as const];
  const fields = entries.slice(0, APPROVAL_FIELDS_MAX).map(([label, value]) => ({
    label: cut(label, APPROVAL_LABEL_MAX),
    value: cut(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)), APPROVAL_VALUE_MAX),
  }));
  if (entries.length > APPROVAL_FIELDS_MAX) {
    fields.push({ label: '…', value: say.moreArguments(entries.length - APPROVAL_FIELDS_MAX) });
  }
  return { action: say.run(`${server}.${tool}`), target: say.mcpServer(server), fields };
}

/** A failed MCP call as a ToolError: server down or gone mid-call, its timeout, refused arguments. */
function mcpFailure(server: string, error: unknown): ToolError {
  if (ToolError.isInstance(error)) return error;
  if (error instanceof McpServerDownError) return new ToolError('UNAVAILABLE', error.message, { cause: error });
  if (error instanceof McpError) {
    if (error.code === ErrorCode.ConnectionClosed) {
      return new ToolError('UNAVAILABLE', `the MCP server ${server} stopped during the call (it is being restarted)`, {
        cause: error,
      });
    }
    if (error.code === ErrorCode.RequestTimeout) {
      return new ToolError('TIMEOUT', `the MCP server ${server} did not answer in time`, { cause: error });
    }
    if (error.code === ErrorCode.InvalidParams || error.code === ErrorCode.MethodNotFound) {
      return new ToolError('BAD_INPUT', `the MCP server ${server} refused the call: ${error.message}`, {
        cause: error,
      });
    }
    return new ToolError('OTHER', `the MCP server ${server} failed: ${error.message}`, { cause: error });
  }
  if (/more than \d+ bytes|exceeded maximum size/.test(errorMessage(error))) {
    return new ToolError('BAD_RESPONSE', `the MCP server ${server} sent an answer larger than the bot accepts`, {
      cause: error,
      advice: 'Ask for less (a narrower query, fewer items), or tell the user the answer was too large.',
    });
  }
  return new ToolError('UNAVAILABLE', `the MCP server ${server} could not be reached: ${errorMessage(error)}`, {
    cause: error,
  });
}

/**
 * One MCP tool as a tool definition: no identity, and a call through the supervised connection
 * within `timeoutMs` (the tool runtime's own deadline applies as well). `access: 'write'` (a tool
 * the server does not mark read-only) adds the approval summary: the runtime then offers it only
 * where a person can be asked, and it runs only once they approve.
 */
export function mcpToolDefinition({
  name,
  server,
  tool,
  connection,
  timeoutMs,
  access = 'read',
  ledger,
}: {
  name: string;
  server: string;
  tool: McpTool;
  connection: McpConnection;
  timeoutMs: number;
  access?: ToolAccess;
  /** Where approved write calls are recorded (started, completed); without it they are not. */
  ledger?: McpCallLedger | undefined;
}): AnyToolDefinition {
  const about = (tool.description ?? tool.annotations?.title ?? tool.title ?? tool.name).trim();
  const asks = access === 'write' ? '; the person approves each call first' : '';
  return defineTool({
    name,
    description: `${about.slice(0, DESCRIPTION_MAX)} (tool "${tool.name}" of the MCP server "${server}"${asks})`,
    inputSchema: inputSchemaOf(tool),
    scopes: [],
    access,
    ...(access === 'write'
      ? {
          approval: {
            describe: (input: unknown, language: Language) => mcpApprovalSummary(server, tool.name, input, language),
          },
        }
      : {}),
    identity: 'none',
    execute: async (input, { signal, limits, conversation, toolCallId }) => {
      // An approved change carries a key that is the same when a run continued after a crash
      // replays the call, and the ledger knows whether that call already ran.
      const key =
        access === 'write'
          ? changeKey(conversation.traceId, `mcp:${server}/${tool.name}#${toolCallId ?? ''}`, input)
          : undefined;
      if (key !== undefined && ledger !== undefined) {
        const before = await ledger.begin(key);
        if (before.state === 'completed') return before.result;
        if (before.state === 'started') {
          const notice = approvalTexts(conversation.language ?? 'en').mayHaveRun(`${server}.${tool.name}`);
          throw new ToolError('OTHER', `${notice} It was not sent again.`, {
            userNotice: notice,
            advice: 'Do not call it again: tell the user it may already have run and to check before asking again.',
          });
        }
      }
      let result: CallToolResult;
      try {
        result = await connection.callTool(tool.name, input, {
          signal,
          timeoutMs,
          ...(key === undefined ? {} : { meta: { [IDEMPOTENCY_META_KEY]: key } }),
        });
      } catch (error) {
        // Not connected: the server never saw it, so a later attempt may make it. Anything else
        // (a timeout, a connection lost mid-call) may have run: it stays "started".
        if (key !== undefined && error instanceof McpServerDownError) await ledger?.abandon(key);
        if (signal.aborted) throw signal.reason;
        const failure = mcpFailure(server, error);
        // The model, the devtools and the logs read this: no credential of the entry in it.
        throw new ToolError(failure.code, connection.redact(failure.message), {
          ...(failure.advice === undefined ? {} : { advice: failure.advice }),
          cause: failure,
        });
      }
      let text: string;
      try {
        text = mcpResultText(result, limits.maxItems);
      } catch (error) {
        // The server answered that it failed: nothing was done, a later attempt may try again.
        if (key !== undefined) await ledger?.abandon(key);
        throw error;
      }
      if (key !== undefined) await ledger?.complete(key, text);
      return text;
    },
  });
}
