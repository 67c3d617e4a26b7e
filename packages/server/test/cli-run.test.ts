import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { decodeOtlpProto, type Span } from '@linktrace/model';
import { commandServiceName } from '../src/cli/run.js';
import { BIN } from './serve-helpers.js';

// Read from the source tree (tsc copies no .mjs); inside the repository like any user script.
const SCRIPT = fileURLToPath(new URL('../../test/fixtures/run/traced-script.mjs', import.meta.url));

let receiver: http.Server;
let endpoint: string;
const spans: Span[] = [];
const authorizations: (string | undefined)[] = [];

async function waitFor(predicate: (s: Span[]) => boolean, what: string): Promise<Span[]> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (predicate(spans)) return spans;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}; have ${spans.map((s) => `${s.service}/${s.kind}:${s.name}`).join(', ')}`);
}

function cli(args: string[], onStdout?: (text: string, pid: number) => void, ownGroup = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('LINKTRACE_') || key.startsWith('OTEL_') || key === 'NODE_OPTIONS' || key === 'TRACEPARENT' || key === 'NODE_TEST_CONTEXT') delete env[key];
  // ownGroup: the CLI leads a process group of its own, as a command in a terminal does.
  const child = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env, detached: ownGroup });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    onStdout?.(stdout, child.pid!);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('the service a run is named after', () => {
  it("is the command's name, or for node the script's name without its extension", () => {
    assert.equal(commandServiceName(['node', 'jobs/nightly-sync.mjs', '--full']), 'nightly-sync');
    assert.equal(commandServiceName([process.execPath, '/srv/app/dist/main.js']), 'main');
    assert.equal(commandServiceName(['node', 'report.ts']), 'report');
    assert.equal(commandServiceName(['node', '--import', 'tsx', 'job.ts']), 'node');
    assert.equal(commandServiceName(['node']), 'node');
    assert.equal(commandServiceName(['/usr/local/bin/backup.sh', 'node']), 'backup.sh');
    assert.equal(commandServiceName(['python3', 'job.py']), 'python3');
  });
});

describe('linktrace run', () => {
  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        authorizations.push(req.headers.authorization);
        spans.push(...decodeOtlpProto(Buffer.concat(chunks)).spans);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(() => {
    receiver.closeAllConnections();
    receiver.close();
  });

  it("the script's spans are children of the run's root span", async () => {
    spans.length = 0;
    const result = await cli(['--service', 'nightly', '--endpoint', endpoint, '--token', 'tk', '--', process.execPath, SCRIPT, '0']);
    assert.equal(result.code, 0, result.stderr);
    const all = await waitFor((s) => s.length >= 3, 'run, client and server spans');
    const root = all.find((s) => s.parentSpanId === undefined)!;
    assert.equal(root.kind, 'internal');
    assert.equal(root.name, `${process.execPath} ${SCRIPT} 0`);
    assert.deepEqual(root.attributes['process.command_args'], [process.execPath, SCRIPT, '0']);
    assert.equal(root.attributes['process.exit.code'], 0);
    assert.equal(root.status.code, 'unset');
    assert.equal(root.rpcid, '0');
    const client = all.find((s) => s.kind === 'client')!;
    const server = all.find((s) => s.kind === 'server')!;
    assert.equal(client.parentSpanId, root.spanId);
    assert.equal(client.rpcid, '0.1');
    assert.equal(server.parentSpanId, client.spanId);
    for (const span of all) {
      assert.equal(span.traceId, root.traceId);
      assert.equal(span.service, 'nightly');
    }
    assert.ok(authorizations.every((a) => a === 'Bearer tk'));
  });

  it('a non-zero exit marks the root span as an error and becomes the exit code', async () => {
    spans.length = 0;
    const result = await cli(['--endpoint', endpoint, '--', process.execPath, SCRIPT, '3']);
    assert.equal(result.code, 3);
    const all = await waitFor((s) => s.some((x) => x.parentSpanId === undefined) && s.some((x) => x.kind === 'client'), 'root and client spans');
    const root = all.find((s) => s.parentSpanId === undefined)!;
    assert.equal(root.status.code, 'error');
    assert.equal(root.status.message, 'exited with code 3');
    assert.equal(root.attributes['process.exit.code'], 3);
    // Without --service the script's name is the service, of the run and of the child's spans alike
    // (the child's SDK once named them `unknown_service:node`).
    const script = basename(SCRIPT, '.mjs');
    for (const span of all) assert.equal(span.service, script, `${span.kind} ${span.name}`);
  });

  it('a command that does not exist exits 127 with an error span; bad flags exit 2', async () => {
    spans.length = 0;
    const missing = await cli(['--endpoint', endpoint, '--', 'linktrace-no-such-command-xyz']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /could not start linktrace-no-such-command-xyz/);
    const [root] = await waitFor((s) => s.length >= 1, 'the root span');
    assert.equal(root!.status.code, 'error');
    assert.equal(root!.events[0]?.name, 'exception');
    const bad = await cli(['--endpoint', 'ftp://x', '--', process.execPath, SCRIPT]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an http\(s\) URL/);
  });

  it('Ctrl-C (SIGINT to the whole process group) reaches the child once: its flush is not interrupted', async () => {
    spans.length = 0;
    let sent = false;
    const result = await cli(['--endpoint', endpoint, '--', process.execPath, SCRIPT, 'flush-on-sigint'], (out, pid) => {
      if (!sent && out.includes('sleeping')) {
        sent = true;
        // What the terminal does: the signal goes to every process of the foreground group.
        process.kill(-pid, 'SIGINT');
      }
    }, true);
    assert.equal(sent, true);
    assert.match(result.stdout, /sigints=1\n/);
    assert.equal(result.code, 0, result.stderr);
    const [root] = await waitFor((s) => s.length >= 1, 'the root span');
    assert.equal(root!.attributes['process.exit.code'], 0);
    assert.deepEqual(root!.events.map((e) => [e.name, e.attributes?.['linktrace.process.signal']]), [['signal received', 'SIGINT']]);
  });

  it('forwards SIGTERM to the child and reports the signal', async () => {
    spans.length = 0;
    let sent = false;
    const result = await cli(['--endpoint', endpoint, '--', process.execPath, SCRIPT, 'sleep'], (out, pid) => {
      if (!sent && out.includes('sleeping')) {
        sent = true;
        process.kill(pid, 'SIGTERM');
      }
    });
    assert.equal(sent, true);
    assert.equal(result.code, 128 + 15);
    const [root] = await waitFor((s) => s.length >= 1, 'the root span');
    assert.equal(root!.status.code, 'error');
    assert.equal(root!.status.message, 'killed by SIGTERM');
    assert.equal(root!.attributes['linktrace.process.signal'], 'SIGTERM');
  });
});
