/**
 * Slow clients time out: a thousand sockets that stay silent, trickle their headers or trickle their
 * body are closed by the server (those that sent their headers with 408 request_timeout), while a
 * normal client keeps getting answers. Short timeouts; how long the closing took is reported (as a
 * diagnostic, not asserted: time budgets belong in benchmarks).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { withApp } from './ingest-helpers.js';

const SLOW_SOCKETS = 1000;
const TIMEOUTS = { headerMs: 400, bodyMs: 800, idleMs: 800 };
/** A slow socket sends one byte per tick, for at most MAX_TICKS ticks (then it stops by itself). */
const TICK_MS = 100;
const MAX_TICKS = 300;

type Kind = 'silent' | 'headers' | 'body';

interface SlowSocket {
  kind: Kind;
  closedBy: 'server' | 'client' | undefined;
  answer: string;
  /** ms from the connection's open to its close. */
  openedAt: number;
  closedAt: number;
}

function openSlowSocket(port: number, kind: Kind, started: number): { socket: Socket; state: SlowSocket; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  const state: SlowSocket = { kind, closedBy: undefined, answer: '', openedAt: 0, closedAt: 0 };
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (state.answer += d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => {
    socket.on('close', () => {
      state.closedBy ??= 'server';
      state.closedAt = performance.now() - started;
      resolve();
    });
  });
  socket.on('connect', () => {
    state.openedAt = performance.now() - started;
    if (kind === 'headers') socket.write('POST /api/v1/spans HTTP/1.1\r\nHost: x\r\n');
    if (kind === 'body') socket.write('POST /api/v1/spans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
  });
  return { socket, state, closed };
}

describe('slow clients', () => {
  it(`${SLOW_SOCKETS} slow sockets are closed by the server while a normal client keeps getting answers`, async () => {
    await withApp({ timeouts: TIMEOUTS }, async ({ url }) => {
      const port = Number(new URL(url).port);
      const kinds: Kind[] = ['silent', 'headers', 'body'];
      const started = performance.now();
      const slow = Array.from({ length: SLOW_SOCKETS }, (_, i) => openSlowSocket(port, kinds[i % 3], started));
      let stop = false;
      // The trickle: one byte per tick on every open socket that has begun (bounded: MAX_TICKS).
      const trickle = (async () => {
        for (let tick = 0; tick < MAX_TICKS && !stop; tick++) {
          await new Promise((r) => setTimeout(r, TICK_MS));
          for (const s of slow) {
            if (s.state.kind === 'silent' || s.socket.destroyed || s.socket.connecting) continue;
            s.socket.write(s.state.kind === 'headers' ? 'X' : ' ');
          }
        }
        // Past the bound: whatever is still open is closed here, and counted as not closed by the server.
        for (const s of slow) {
          if (!s.socket.destroyed) {
            s.state.closedBy = 'client';
            s.socket.destroy();
          }
        }
      })();
      // Meanwhile a normal client asks the health route, one request after another.
      const answers: number[] = [];
      const normal = (async () => {
        while (!stop) {
          const res = await fetch(`${url}/healthz`);
          await res.arrayBuffer();
          answers.push(res.status);
        }
      })();
      await Promise.all(slow.map((s) => s.closed));
      stop = true;
      await Promise.all([trickle, normal]);

      const byKind = new Map<Kind, SlowSocket[]>(kinds.map((k) => [k, slow.filter((s) => s.state.kind === k).map((s) => s.state)]));
      for (const [kind, states] of byKind) {
        assert.deepEqual(states.filter((s) => s.closedBy !== 'server').length, 0, `${kind}: every socket closed by the server`);
      }
      for (const kind of ['headers', 'body'] as const) {
        for (const s of byKind.get(kind) ?? []) {
          assert.match(s.answer, /^HTTP\/1\.1 408 /, kind);
          assert.match(s.answer, /"code":"request_timeout"/, kind);
        }
      }
      assert.ok(answers.length > 0, 'the normal client got answers');
      assert.ok(answers.every((status) => status === 200), `normal client statuses: ${[...new Set(answers)].join(', ')}`);
      const lived = (kind: Kind): string => {
        const ms = (byKind.get(kind) ?? []).map((s) => s.closedAt - s.openedAt).sort((a, b) => a - b);
        return `${kind} median ${ms[ms.length >> 1].toFixed(0)} max ${ms[ms.length - 1].toFixed(0)} ms`;
      };
      const lastClose = Math.max(...slow.map((s) => s.state.closedAt));
      const report = `slow sockets open until closed: ${lived('silent')}, ${lived('headers')}, ${lived('body')}; all ${SLOW_SOCKETS} closed ${lastClose.toFixed(0)} ms after the first connect; ` +
        `timeouts header ${TIMEOUTS.headerMs} ms, body ${TIMEOUTS.bodyMs} ms, idle ${TIMEOUTS.idleMs} ms; ${answers.length} normal answers meanwhile`;
      process.stdout.write(`# ${report}\n`);
    });
  });

  it('a kept-alive connection idle for the idle timeout is closed by the server', async () => {
    await withApp({ timeouts: TIMEOUTS }, async ({ url }) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      let answer = '';
      socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
      const started = performance.now();
      const closed = new Promise<'server' | 'guard'>((resolve) => {
        socket.on('close', () => resolve('server'));
        // A guard against hanging forever, far past the idle timeout (Node's own default is 72 s).
        setTimeout(() => resolve('guard'), 20 * TIMEOUTS.idleMs).unref();
      });
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const by = await closed;
      socket.destroy();
      assert.equal(by, 'server');
      assert.match(answer, /^HTTP\/1\.1 200 /);
      process.stdout.write(`# idle keep-alive connection closed after ${(performance.now() - started).toFixed(0)} ms (idle timeout ${TIMEOUTS.idleMs} ms)\n`);
    });
  });

  it("timeouts longer than Node's defaults (header 10 min, body 20 min) are applied", async () => {
    await withApp({ timeouts: { headerMs: 600_000, bodyMs: 1_200_000, idleMs: 90_000 } }, ({ app }) => {
      assert.equal(app.server.headersTimeout, 600_000);
      assert.equal(app.server.requestTimeout, 1_200_000);
      assert.equal(app.server.keepAliveTimeout, 90_000);
      return Promise.resolve();
    });
  });
});
