import { describe, expect, it } from 'vitest';
import { serverRedactor } from './mcp-connection.js';

describe('serverRedactor', () => {
  it('scrubs header values, bearer tokens alone, URL query values and user info of an HTTP entry', () => {
    const redact = serverRedactor({
      name: 'crm',
      transport: 'http',
      url: 'https://robot-user:pa55word99@mcp.example.com/mcp?api_key=key-0123456789',
      headers: { authorization: 'Bearer tok-abcdef123456', 'x-team': 'sales' },
    });
    expect(
      redact(
        '401 for Bearer tok-abcdef123456 (tok-abcdef123456) at ?api_key=key-0123456789 as robot-user:pa55word99, team sales',
      ),
    ).toBe('401 for [Redacted] ([Redacted]) at ?api_key=[Redacted] as [Redacted]:[Redacted], team sales');
  });

  it('scrubs env values of a stdio entry and leaves short ones (they would hit ordinary words)', () => {
    const redact = serverRedactor({
      name: 'files',
      transport: 'stdio',
      command: 'files-server',
      env: { GITHUB_TOKEN: 'ghp_0123456789abcdef', MODE: 'ro' },
    });
    expect(redact('auth failed with ghp_0123456789abcdef in ro mode')).toBe('auth failed with [Redacted] in ro mode');
  });
});
