import { bilingual } from '../../i18n/bilingual.js';

/**
 * The words of the approval cards write tools ask with (`approval.describe`): what will happen,
 * where, and the labels of the fields. Values stay as the model wrote them.
 */
export interface ApprovalTexts {
  labels: {
    title: string;
    due: string;
    description: string;
    assignees: string;
    content: string;
    task: string;
    text: string;
    start: string;
    end: string;
    input: string;
  };
  /** The assignee of a task nobody was named for. */
  theAsker: string;
  /** A long text cut for the card: its length in characters. */
  characters(count: number): string;
  createTask: { action: string; target: string };
  createDocument: { action: string; target: string };
  completeTask: { done: string; reopen: string; target: string };
  sendMessage: { action: string; target(chatId: string): string };
  addBaseRecord: { action: string };
  updateBaseRecord: { action: string; record(where: string, record: string): string };
  /** `base (table tbl…)`. */
  baseTable(base: string, table: string): string;
  createCalendarEvent: { action: string; target: string };
  /** A tool of an MCP server, or one without a summary of its own. */
  run(tool: string): string;
  mcpServer(server: string): string;
  moreArguments(count: number): string;
  /** An approved tool call an earlier attempt started but never finished (a crash): not repeated. */
  mayHaveRun(tool: string): string;
}

/**
 * @example
 * const say = approvalTexts(language);
 * ({ action: say.createTask.action, target: say.createTask.target, fields: [{ label: say.labels.title, value }] });
 */
export const approvalTexts = bilingual<ApprovalTexts>({
  en: {
    labels: {
      title: 'Title',
      due: 'Due',
      description: 'Description',
      assignees: 'Assignees',
      content: 'Content',
      task: 'Task',
      text: 'Text',
      start: 'Start',
      end: 'End',
      input: 'input',
    },
    theAsker: 'the person asking',
    characters: (count) => `${count} characters`,
    createTask: { action: 'Create a task', target: 'Feishu Tasks' },
    createDocument: { action: 'Create a document', target: 'your Feishu documents' },
    completeTask: { done: 'Mark a task as done', reopen: 'Reopen a task', target: 'Feishu Tasks' },
    sendMessage: { action: 'Send a message', target: (chatId) => `chat ${chatId}` },
    addBaseRecord: { action: 'Add a base record' },
    updateBaseRecord: { action: 'Change a base record', record: (where, record) => `${where}, record ${record}` },
    baseTable: (base, table) => `${base} (table ${table})`,
    createCalendarEvent: { action: 'Add a calendar event', target: 'your primary calendar' },
    run: (tool) => `Run ${tool}`,
    mcpServer: (server) => `MCP server "${server}"`,
    moreArguments: (count) => `${count} more arguments not shown`,
    mayHaveRun: (tool) =>
      `${tool} was already started before a restart and may have run; it was not repeated. Check before asking again.`,
  },
  zh: {
    labels: {
      title: '标题',
      due: '截止时间',
      description: '描述',
      assignees: '负责人',
      content: '内容',
      task: '任务',
      text: '文字',
      start: '开始',
      end: '结束',
      input: '输入',
    },
    theAsker: '提问的人',
    characters: (count) => `共 ${count} 个字符`,
    createTask: { action: '创建任务', target: '飞书任务' },
    createDocument: { action: '创建文档', target: '你的飞书云文档' },
    completeTask: { done: '将任务标记为已完成', reopen: '重新打开任务', target: '飞书任务' },
    sendMessage: { action: '发送消息', target: (chatId) => `会话 ${chatId}` },
    addBaseRecord: { action: '新增多维表格记录' },
    updateBaseRecord: { action: '修改多维表格记录', record: (where, record) => `${where}，记录 ${record}` },
    baseTable: (base, table) => `${base}（数据表 ${table}）`,
    createCalendarEvent: { action: '添加日程', target: '你的主日历' },
    run: (tool) => `运行 ${tool}`,
    mcpServer: (server) => `MCP 服务 “${server}”`,
    moreArguments: (count) => `另有 ${count} 个参数未显示`,
    mayHaveRun: (tool) => `${tool} 在重启前已开始执行，可能已经生效；未再次执行。请先确认再重新请求。`,
  },
});
