import { describe, expect, it } from 'vitest';
import { builtInSpecialists, createSpecialistRegistry } from '../agents/specialist-registry.js';
import { helpText, parseCommand, runCommand } from './commands.js';

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
