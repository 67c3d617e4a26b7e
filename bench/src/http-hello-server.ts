/**
 * The server under load in bench:http: hello world on `node:http`, nothing else. It is the same
 * file in every case; only the node flags of its process differ (none, Linktrace's register hook,
 * or the OpenTelemetry preload). It uses the `http` module object (not named imports) so that
 * OpenTelemetry's require-time patch reaches it the same way it reaches a CommonJS app.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = 'hello world\n';

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`hello: listening on http://127.0.0.1:${port}`);
});

// Stop by closing every handle, so the tracer's exit flush (beforeExit) runs as in a real shutdown.
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
