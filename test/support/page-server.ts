/**
 * Real web pages on 127.0.0.1 for the `readWebPage` tests: an article, compressed and huge
 * bodies, a page that never finishes, redirects (to itself, to other hosts, in a loop), a PDF
 * and a 404. Records every request, so a test can prove a refused URL never reached it.
 *
 * @example
 * const pages = await startPageServer();
 * await fetchPage(`${pages.url}/article`, { signal });
 * expect(pages.requests).toEqual(['/article']);
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export const ARTICLE_HTML = `<!doctype html>
<html><head><title>Release notes  | Acme</title><style>body { color: red }</style>
<script>window.secret = "do-not-read";</script></head>
<body>
<nav><a href="/">Home</a> · <a href="/pricing">Pricing</a></nav>
<article>
<h1>Acme 3.0 is out</h1>
<p>Version <strong>3.0</strong> ships on 12 May with <a href="https://acme.example/changelog">a new changelog</a>.</p>
<table><tr><th>plan</th><th>price</th></tr><tr><td>Team</td><td>12 USD</td></tr></table>
</article>
<footer>© Acme, all rights reserved</footer>
</body></html>`;

export async function startPageServer() {
  const requests: string[] = [];
  let port = 0;
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    if (requests.length >= 200) requests.shift();
    requests.push(path);
    switch (path) {
      case '/article':
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(ARTICLE_HTML);
        return;
      case '/gzip':
        response
          .writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' })
          .end(gzipSync(ARTICLE_HTML));
        return;
      case '/gbk':
        // 你好世界 in GBK, declared only in the page's head (as many pages in China do).
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(
          Buffer.concat([
            Buffer.from(
              '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"><title>GBK</title></head><body><p>',
            ),
            Buffer.from('c4e3bac3cac0bde7', 'hex'),
            Buffer.from('</p></body></html>'),
          ]),
        );
        return;
      case '/text':
        response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('plain words, kept as they are');
        return;
      case '/huge': {
        // 50 MB of text if nobody stops reading; a reader with a byte limit hangs up long before.
        response.writeHead(200, { 'content-type': 'text/plain' });
        let sent = 0;
        const chunk = `${'lorem ipsum '.repeat(85)}\n`;
        const pump = () => {
          while (sent < 50_000_000) {
            sent += chunk.length;
            if (!response.write(chunk)) return response.once('drain', pump);
          }
          response.end();
        };
        response.on('close', () => server.emit('huge-closed', sent));
        pump();
        return;
      }
      case '/slow':
        response.writeHead(200, { 'content-type': 'text/html' });
        response.write('<html><body><p>Loading');
        return;
      case '/pdf':
        response.writeHead(200, { 'content-type': 'application/pdf' }).end('%PDF-1.7');
        return;
      case '/redirect-ok':
        response.writeHead(301, { location: '/article' }).end();
        return;
      case '/redirect-to-localhost':
        response.writeHead(302, { location: `http://localhost:${port}/article` }).end();
        return;
      case '/redirect-to-metadata':
        response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        return;
      case '/redirect-loop':
        response.writeHead(302, { location: '/redirect-loop' }).end();
        return;
      default:
        response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Resolves with the bytes `/huge` had sent when its connection closed. */
    hugeClosed: () => new Promise<number>((resolve) => server.once('huge-closed', resolve)),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type PageServer = Awaited<ReturnType<typeof startPageServer>>;
