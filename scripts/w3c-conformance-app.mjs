// The service the W3C Trace Context test harness talks to (scripts/conformance-w3c.mjs starts it
// under `node --import @linktrace/sdk/register`). Plain node:http, nothing Linktrace-specific: the
// harness POSTs a JSON array of {url, arguments}; for each element, in order, this service POSTs
// `arguments` (as JSON) to `url`, then answers 200. The body is read with 'data'/'end' and the calls
// are made from the 'end' listener — the most common raw-Node pattern, which must keep the trace.
import { Buffer } from 'node:buffer';
import http from 'node:http';

function post(url, body) {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    // The harness counts a missing callback as a failure; an error here is reported, not thrown.
    req.on('error', (error) => {
      process.stderr.write(`w3c-conformance-app: POST ${url} failed: ${error.message}\n`);
      resolve(0);
    });
    req.end(JSON.stringify(body));
  });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    let calls;
    try {
      calls = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (!Array.isArray(calls)) throw new Error('the body is not a JSON array');
    } catch (error) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      return;
    }
    for (const call of calls) {
      if (call !== null && typeof call === 'object' && typeof call.url === 'string') await post(call.url, call.arguments ?? []);
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
