import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from '../observe/redact.js';
import { sanitiseErrorMessage } from './sanitise-error-message.js';

describe('sanitiseErrorMessage', () => {
  it('redacts credential shapes without being told any secret', () => {
    expect(sanitiseErrorMessage('401: Bearer eyJhbGciOi.abc for sk-abcdefghijklmnop')).toBe(
      `401: Bearer ${REDACTED} for ${REDACTED}`,
    );
  });

  it('redacts the configured secrets through the redactor it is given', () => {
    const redact = createRedactor(['hunter2-app-secret']);
    expect(sanitiseErrorMessage('login with hunter2-app-secret failed', { redact })).toBe(
      `login with ${REDACTED} failed`,
    );
  });

  it('collapses whitespace and cuts long text to maxLength, ellipsis included', () => {
    expect(sanitiseErrorMessage('  line one\n\n\tline two  ')).toBe('line one line two');
    const cut = sanitiseErrorMessage('x'.repeat(500), { maxLength: 80 });
    expect(cut).toHaveLength(80);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('redacts before it cuts, so a secret at the cut is never half visible', () => {
    const secret = 'sk-0123456789abcdefghij';
    const message = sanitiseErrorMessage(`${'a'.repeat(70)} ${secret}`, { maxLength: 80 });
    expect(message).not.toContain('sk-0123');
    expect(message.length).toBeLessThanOrEqual(80);
  });

  it('turns a non-string into text instead of throwing', () => {
    expect(sanitiseErrorMessage(42 as unknown as string)).toBe('42');
  });
});
