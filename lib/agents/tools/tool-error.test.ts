import { describe, expect, it } from 'vitest';
import { FeishuApiError } from '../../feishu/call-feishu.js';
import { isToolFault, scopesInFeishuMessage, ToolError, toToolError } from './tool-error.js';

const feishuError = (fields: ConstructorParameters<typeof FeishuApiError>[0]) => new FeishuApiError(fields);
const classify = (error: unknown, identity: 'tenant' | 'user' = 'tenant') =>
  toToolError(error, { tool: 'readDocument', identity, scopes: ['docx:document:readonly'] });

describe('toToolError', () => {
  it('reads the scopes out of Feishu’s "no scope" message and tells where an admin grants them', () => {
    const failure = classify(
      feishuError({
        api: 'docx.v1.documentBlock.list',
        code: 99991672,
        httpStatus: 400,
        message:
          'docx.v1.documentBlock.list failed: HTTP 400 99991672 Access denied. One of the following scopes is required: [docx:document, docx:document:readonly].应用尚未开通所需的应用身份权限',
      }),
    );
    expect(failure.code).toBe('NO_SCOPE');
    expect(failure.scopes).toEqual(['docx:document', 'docx:document:readonly']);
    expect(failure.userNotice).toContain('`docx:document` or `docx:document:readonly`');
    expect(failure.userNotice).toContain('publish a new app version');
  });

  it('falls back to the tool’s declared scopes, and words a user-token scope problem for the user', () => {
    const failure = classify(
      feishuError({ api: 'x', code: 99991679, message: 'x failed: 99991679 Unauthorized' }),
      'user',
    );
    expect(failure.scopes).toEqual(['docx:document:readonly']);
    expect(failure.userNotice).toContain('your authorization of the bot is missing');
    expect(failure.userNotice).toContain('authorize the bot again');
  });

  it.each([
    [{ code: 1770032, httpStatus: 403 }, 'NO_PERMISSION'],
    [{ code: 131006 }, 'NO_PERMISSION'],
    [{ code: 91403 }, 'NO_PERMISSION'],
    [{ httpStatus: 403 }, 'NO_PERMISSION'],
    [{ code: 1770002, httpStatus: 404 }, 'NOT_FOUND'],
    [{ code: 90202 }, 'BAD_INPUT'],
    [{ code: 99991400 }, 'RATE_LIMIT'],
    [{ httpStatus: 429 }, 'RATE_LIMIT'],
    [{ httpStatus: 502 }, 'UNAVAILABLE'],
    [{ network: true }, 'UNAVAILABLE'],
    [{ timedOut: true }, 'TIMEOUT'],
    [{ code: 99991677 }, 'NEEDS_USER_AUTH'],
    [{ code: 12345 }, 'OTHER'],
  ] as const)('%o → %s', (fields, category) => {
    expect(classify(feishuError({ api: 'x', message: 'x failed', ...fields })).code).toBe(category);
  });

  it('keeps a ToolError as it is and turns anything else into OTHER without a stack', () => {
    const own = new ToolError('BAD_INPUT', 'bad range');
    expect(classify(own)).toBe(own);
    const other = classify(new TypeError('boom'));
    expect(other.code).toBe('OTHER');
    expect(other.message).toBe('readDocument failed: boom');
  });

  it('counts only the tool’s own failures as faults', () => {
    expect(isToolFault('TIMEOUT')).toBe(true);
    expect(isToolFault('NO_SCOPE')).toBe(true);
    expect(isToolFault('NO_PERMISSION')).toBe(false);
    expect(isToolFault('NEEDS_USER_AUTH')).toBe(false);
  });

  it('accepts only scope-shaped names from the message', () => {
    expect(scopesInFeishuMessage('required: [a:b, not a scope, c:d:readonly]')).toEqual(['a:b', 'c:d:readonly']);
    expect(scopesInFeishuMessage('no brackets')).toEqual([]);
  });
});
