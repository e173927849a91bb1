import { currentTimeTool } from './current-time.js';
import { completeTaskTool } from './feishu/complete-task.js';
import { createCalendarEventTool } from './feishu/create-calendar-event.js';
import { createDocumentTool } from './feishu/create-document.js';
import { createTaskTool } from './feishu/create-task.js';
import { findCommonSlotTool } from './feishu/find-common-slot.js';
import { findUserTool } from './feishu/find-user.js';
import { getFreeBusyTool } from './feishu/get-free-busy.js';
import { getTaskTool } from './feishu/get-task.js';
import { getUserTool } from './feishu/get-user.js';
import { getWikiNodeTool } from './feishu/get-wiki-node.js';
import { listBaseTablesTool } from './feishu/list-base-tables.js';
import { listMyEventsTool } from './feishu/list-my-events.js';
import { listMyTasksTool } from './feishu/list-my-tasks.js';
import { listWikiNodesTool } from './feishu/list-wiki-nodes.js';
import { readDocumentTool } from './feishu/read-document.js';
import { readSheetTool } from './feishu/read-sheet.js';
import { searchBaseRecordsTool } from './feishu/search-base-records.js';
import { searchDocumentsTool } from './feishu/search-documents.js';
import { searchWikiTool } from './feishu/search-wiki.js';
import { sendMessageTool } from './feishu/send-message.js';
import { addBaseRecordTool, updateBaseRecordTool } from './feishu/write-base-record.js';
import { readChatHistoryTool } from './read-chat-history.js';
import { readWebPageTool } from './read-web-page.js';
import type { AnyToolDefinition } from './tool-definition.js';
import { createToolRegistry, type ToolRegistry } from './tool-registry.js';
import { webSearchTool } from './web-search.js';

/**
 * Every tool the bot ships. Adding a tool is its file plus one line here (docs/tools.md).
 * Specialists and `MANAGER_TOOLS` refer to them by name.
 */
export const BUILT_IN_TOOLS: readonly AnyToolDefinition[] = [
  readChatHistoryTool,
  currentTimeTool,
  readDocumentTool,
  getWikiNodeTool,
  listWikiNodesTool,
  searchWikiTool,
  searchDocumentsTool,
  readSheetTool,
  listBaseTablesTool,
  searchBaseRecordsTool,
  listMyEventsTool,
  getFreeBusyTool,
  findCommonSlotTool,
  listMyTasksTool,
  getTaskTool,
  getUserTool,
  findUserTool,
  webSearchTool,
  readWebPageTool,
  createTaskTool,
  completeTaskTool,
  createCalendarEventTool,
  createDocumentTool,
  addBaseRecordTool,
  updateBaseRecordTool,
  sendMessageTool,
];

/** The registry of the built-in tools. */
export function defaultToolRegistry(): ToolRegistry {
  return createToolRegistry(BUILT_IN_TOOLS);
}
