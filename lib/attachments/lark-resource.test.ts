import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as lark from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentFailure } from '../../test/support/attachment-fixtures.js';
import { downloadLarkResource, fileNameFromDisposition } from './lark-resource.js';

const report = readFileSync(new URL('../../test/fixtures/attachments/report.pdf', import.meta.url));

/**
 * The two Open API routes a resource download touches, as Feishu answers them (token JSON, then
 * the raw file with Content-Type, Content-Length and Content-Disposition). A server of its own
 * rather than the shared fake Feishu (which serves resources for the end-to-end tests), because
 * these cases need what no honest server does: a Content-Length that lies, headers that arrive
 * after the deadline, and a view of when the client closed each socket.
 */
let server: Server;
let baseUrl: string;
const closedRequests: string[] = [];
const seen: { path: string; authorization: string | undefined }[] = [];

function resource(request: IncomingMessage, response: ServerResponse, key: string): void {
  request.socket.once('close', () => closedRequests.push(key));
  const headers = {
    'content-type': 'application/pdf',
    'content-disposition': `attachment; filename="report.pdf"; filename*=UTF-8''%E5%AD%A3%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf`,
  };
  if (key === 'file_ok') {
    response.writeHead(200, { ...headers, 'content-length': report.byteLength });
    response.end(report);
  } else if (key === 'file_declared_huge') {
    response.writeHead(200, { ...headers, 'content-length': 50_000_000 });
    response.write(report.subarray(0, 100));
  } else if (key === 'file_stalls') {
    response.writeHead(200, { ...headers, 'content-length': report.byteLength });
    response.write(report.subarray(0, 1_000));
  } else if (key === 'file_late') {
    setTimeout(() => {
      if (response.destroyed) return;
      response.writeHead(200, { ...headers, 'content-length': report.byteLength });
      response.write(report.subarray(0, 10));
    }, 150);
  }
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    seen.push({ path, authorization: request.headers.authorization });
    if (path === '/open-apis/auth/v3/tenant_access_token/internal') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: 0, msg: 'ok', tenant_access_token: 't-resource-test', expire: 7200 }));
      return;
    }
    const match = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/resources\/([^/]+)$/.exec(path);
    if (match !== null) return resource(request, response, match[2]!);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(): lark.Client {
  const quiet = () => undefined;
  const logger = { error: quiet, warn: quiet, info: quiet, debug: quiet, trace: quiet };
  return new lark.Client({
    appId: 'cli_test',
    appSecret: 'secret',
    domain: baseUrl,
    logger,
    loggerLevel: lark.LoggerLevel.fatal,
  });
}

const get = (key: string) => () =>
  client().im.v1.messageResource.get({ params: { type: 'file' }, path: { message_id: 'om_1', file_key: key } });

/** Downloads `key` with a 1 MB cap, expecting an AttachmentError. */
function failedDownload(key: string, name: string, timeoutMs: number) {
  return attachmentFailure(downloadLarkResource(get(key), { name, maxBytes: 1_000_000, timeoutMs }));
}

async function waitFor(probe: () => boolean): Promise<void> {
  for (let tries = 0; tries < 200 && !probe(); tries++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(probe()).toBe(true);
}

describe('downloadLarkResource with the real SDK', () => {
  it('downloads the file bytes, the content type and the decoded file name', async () => {
    const downloaded = await downloadLarkResource(get('file_ok'), {
      name: 'report.pdf',
      maxBytes: 1_000_000,
      timeoutMs: 5_000,
    });
    expect(downloaded.bytes.equals(report)).toBe(true);
    expect(downloaded.contentType).toBe('application/pdf');
    expect(downloaded.fileName).toBe('季度报告.pdf');
    expect(seen.find((request) => request.path.endsWith('/resources/file_ok'))?.authorization).toBe(
      'Bearer t-resource-test',
    );
  });

  it('refuses a body whose Content-Length is over the cap and closes the connection', async () => {
    const error = await failedDownload('file_declared_huge', 'huge.pdf', 5_000);
    expect(error.code).toBe('ATTACHMENT_TOO_LARGE');
    await waitFor(() => closedRequests.includes('file_declared_huge'));
  });

  it('times out when the body stalls mid-way and releases the socket', async () => {
    const error = await failedDownload('file_stalls', 'slow.pdf', 300);
    expect(error.code).toBe('ATTACHMENT_TIMEOUT');
    await waitFor(() => closedRequests.includes('file_stalls'));
  });

  it('times out while waiting for headers, and destroys the late response when it comes', async () => {
    const error = await failedDownload('file_late', 'late.pdf', 60);
    expect(error.code).toBe('ATTACHMENT_TIMEOUT');
    await waitFor(() => closedRequests.includes('file_late'));
  });
});

describe('fileNameFromDisposition', () => {
  it('prefers the RFC 5987 name, falls back to the plain one, and tolerates junk', () => {
    expect(fileNameFromDisposition(`attachment; filename="a.pdf"; filename*=UTF-8''%E6%8A%A5.pdf`)).toBe('报.pdf');
    expect(fileNameFromDisposition('attachment; filename="plan v2.docx"')).toBe('plan v2.docx');
    expect(fileNameFromDisposition('attachment; filename=plain.txt')).toBe('plain.txt');
    expect(fileNameFromDisposition(`attachment; filename*=UTF-8''%E0%A4%A; filename="fallback.csv"`)).toBe(
      'fallback.csv',
    );
    expect(fileNameFromDisposition(undefined)).toBeUndefined();
  });
});
