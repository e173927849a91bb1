import { currentTimeTool } from './current-time.js';
import { readChatHistoryTool } from './read-chat-history.js';
import type { AnyToolDefinition } from './tool-definition.js';
import { createToolRegistry, type ToolRegistry } from './tool-registry.js';

/**
 * Every tool the bot ships. Adding a tool is its file plus one line here (docs/tools.md).
 * Specialists and `MANAGER_TOOLS` refer to them by name.
 */
export const BUILT_IN_TOOLS: readonly AnyToolDefinition[] = [readChatHistoryTool, currentTimeTool];

/** The registry of the built-in tools. */
export function defaultToolRegistry(): ToolRegistry {
  return createToolRegistry(BUILT_IN_TOOLS);
}
