import { describe, expect, it } from 'vitest';
import { builtInSpecialists, createSpecialistRegistry } from '../agents/specialist-registry.js';
import { helpText, isStopRequest, mayBeStopRequest, parseCommand, runCommand } from './commands.js';

describe('parseCommand', () => {
  it('recognises commands as the first word only', () => {
    expect(parseCommand('/reset')).toBe('reset');
    expect(parseCommand('  /NEW  ')).toBe('new');
    expect(parseCommand('/help me please')).toBe('help');
    expect(parseCommand('／reset')).toBe('reset');
    expect(parseCommand('/resetting')).toBeUndefined();
    expect(parseCommand('please /reset')).toBeUndefined();
    expect(parseCommand('/unknown')).toBeUndefined();
  });
});

describe('runCommand', () => {
  it('/reset and /new clear the memory', async () => {
    for (const name of ['reset', 'new'] as const) {
      let cleared = 0;
      const reply = await runCommand(name, { clearMemory: async () => void cleared++, inThread: true });
      expect(cleared).toBe(1);
      expect(reply).toMatch(/forgotten our conversation in this thread/);
    }
  });

  it('/help explains commands and lists the specialists', async () => {
    const specialists = createSpecialistRegistry(builtInSpecialists());
    const reply = await runCommand('help', { clearMemory: async () => {}, specialists, inThread: false });
    expect(reply).toBe(helpText(specialists));
    expect(reply).toContain('/reset');
    expect(reply).toContain('**summarizer**');
    expect(reply).toContain('**writer**');
  });
});

describe('isStopRequest', () => {
  it('is the whole message "stop" / "停止", not a question about stopping', () => {
    for (const text of ['stop', 'Stop', ' STOP! ', '/stop', '停止', '停止。', '停'])
      expect(isStopRequest(text)).toBe(true);
    for (const text of ['stop the build', 'how do I stop it', '不要停止', '', 'stopp'])
      expect(isStopRequest(text)).toBe(false);
  });
});

describe('mayBeStopRequest', () => {
  /** Feishu content as JSON, optionally with every non-ASCII character escaped (`\u505c`). */
  const content = (text: string, asciiOnly: boolean) => {
    const json = JSON.stringify({ text: `@_user_1 ${text}` });
    return asciiOnly ? json.replace(/[^ -~]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
  };

  it('never rules out a stop request, plain or JSON-escaped, in a text or a rich-text message', () => {
    for (const text of ['stop', 'Stop', ' STOP! ', '/stop', '停止', '停止。', '停', '／stop']) {
      expect(isStopRequest(text.trim())).toBe(true);
      expect(mayBeStopRequest(content(text, false))).toBe(true);
      expect(mayBeStopRequest(content(text, true))).toBe(true);
      expect(JSON.parse(content(text, true))).toEqual(JSON.parse(content(text, false)));
      const post = JSON.stringify({ title: '', content: [[{ tag: 'text', text }]] });
      expect(mayBeStopRequest(post)).toBe(true);
    }
  });

  it('rules out a message without any stop word, so it is not read on the ack path', () => {
    for (const text of ['hello', '请总结一下', 'what is the status', ''])
      expect(mayBeStopRequest(content(text, false))).toBe(false);
  });
});
