/**
 * An oversized body is answered with our 413, not reset: the server reads and discards the rest of
 * the body (up to a bound) before it answers and closes. Against the real server in its own process,
 * so that the client is still writing when the answer is ready (in one process it never is).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { rm } from 'node:fs/promises';
import { tempDir } from './ingest-helpers.js';
import { startServe, type ServerProcess } from './serve-helpers.js';

const BODY = Buffer.alloc(5 * 1024 * 1024, 0x61);
const TRIES = 60;

/** One POST of `BODY` with the plain Node client; the status and error code, or the socket error. */
function postOversized(url: URL, path: string, type: string, chunked: boolean): Promise<string> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { 'content-type': type };
    if (!chunked) headers['content-length'] = BODY.length;
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve(`${res.statusCode} ${(JSON.parse(text) as { error: { code: string } }).error.code}`);
        } catch {
          resolve(`${res.statusCode} ${text.slice(0, 80)}`);
        }
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end(BODY);
  });
}

describe('oversized bodies', () => {
  let server: ServerProcess;
  let dataDir: string;
  before(async () => {
    dataDir = await tempDir();
    server = await startServe(['--data', dataDir, '--no-ui', '--max-request-size', '4mb']);
  });
  after(async () => {
    server.kill();
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const [path, type, chunked] of [
    ['/v1/traces', 'application/x-protobuf', false],
    ['/api/v1/spans', 'application/json', true],
  ] as const) {
    it(`a 5 MB body to ${path}${chunked ? ' (chunked)' : ''} gets 413 payload_too_large in ${TRIES} of ${TRIES} tries`, async () => {
      const url = new URL(server.url);
      const outcomes = new Map<string, number>();
      for (let i = 0; i < TRIES; i++) {
        const outcome = await postOversized(url, path, type, chunked);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      assert.deepEqual([...outcomes], [['413 payload_too_large', TRIES]]);
    });
  }
});
