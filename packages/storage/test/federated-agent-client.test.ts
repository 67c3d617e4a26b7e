/**
 * The gateway's client for one agent's spans keeps connections open between hops (a walk is one
 * round trip per hop, so a handshake per hop would be on the critical path n times), and a kept-alive
 * connection the agent closed just as it was reused costs a second try, not an unreachable hop.
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTraceIdGenerator, encodeNativeJson } from '@linktrace/model';
import { span } from '@linktrace/model/testing';
import { fetchAgentTrace } from '../src/index.js';

const newId = createTraceIdGenerator({ ipv4: '10.1.2.3', port: 7001 });
const OPTIONS = { timeoutMs: 2000, maxBytes: 1 << 20, maxSpans: 1000 };

describe('agent client connections', () => {
  let server: Server;
  let base = '';
  let connections = 0;
  /** Requests seen per connection. */
  const served = new Map<Socket, number>();
  /** When set, the second request on any connection has its connection cut without an answer. */
  let cutReused = false;

  before(async () => {
    server = createServer((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (cutReused && n >= 2) {
        req.socket.destroy();
        return;
      }
      const id = /\/traces\/([0-9a-f]{32})/.exec(req.url ?? '')?.[1] ?? '';
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(encodeNativeJson([span({ traceId: id, spanId: '0000000000000001' })])));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('one hop after another to the same agent reuses one connection', async () => {
    cutReused = false;
    const before = connections;
    for (let i = 0; i < 5; i++) {
      const answer = await fetchAgentTrace(base, newId(), OPTIONS);
      assert.equal(answer.status, 'ok');
      assert.equal(answer.status === 'ok' && answer.spans.length, 1);
    }
    assert.equal(connections - before, 1, 'five sequential hops, one connection');
  });

  it('a kept-alive connection closed by the agent as it is reused: asked again on a new one, ok', async () => {
    cutReused = false;
    assert.equal((await fetchAgentTrace(base, newId(), OPTIONS)).status, 'ok');
    cutReused = true;
    const before = connections;
    const answer = await fetchAgentTrace(base, newId(), OPTIONS);
    cutReused = false;
    assert.equal(answer.status, 'ok', answer.status === 'unreachable' ? answer.reason : '');
    assert.equal(connections - before, 1, 'the second try went on a new connection');
  });
});
