#!/usr/bin/env node
// `npm run conformance:w3c [-- <suite dir>]`: runs the official W3C Trace Context test suite
// (github.com/w3c/trace-context, test/test.py, STRICT_LEVEL=2) against a plain node:http app traced
// by `node --import @linktrace/sdk/register` (scripts/w3c-conformance-app.mjs). The suite is not part
// of this repository: point W3C_TRACE_CONTEXT_DIR (or the first argument) at a checkout of it.
// Exits 0 when every Level 1 test passes; prints the counts per level.
import { spawn, spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeOtlpJson, decodeOtlpProto } from '@linktrace/model';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LEVEL_1_SUITES = new Set(['TraceContextTest', 'AdvancedTest']);
const LEVEL_2_SUITES = new Set(['TraceContext2Test']);

function fail(message) {
  process.stderr.write(`conformance:w3c: ${message}\n`);
  process.exit(2);
}

const suiteDir = process.argv[2] ?? process.env.W3C_TRACE_CONTEXT_DIR;
if (suiteDir === undefined || suiteDir === '') {
  fail(
    'the W3C Trace Context test suite was not found. Get it with\n' +
      '  git clone https://github.com/w3c/trace-context /some/dir\n' +
      'then run  W3C_TRACE_CONTEXT_DIR=/some/dir npm run conformance:w3c  (or pass the directory as the argument).',
  );
}
const testDir = join(resolve(suiteDir), 'test');
if (!existsSync(join(testDir, 'test.py'))) {
  fail(`${join(testDir, 'test.py')} does not exist: W3C_TRACE_CONTEXT_DIR must be a checkout of https://github.com/w3c/trace-context (the directory that holds test/test.py).`);
}
// Debian's python3-aiohttp is installed for the system interpreter, not for a pyenv/venv one.
const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const probe = spawnSync(python, ['-c', 'import aiohttp'], { encoding: 'utf8' });
if (probe.error !== undefined || probe.status !== 0) {
  fail(
    `${python} cannot import aiohttp (the harness needs it): ${(probe.error?.message ?? probe.stderr).trim()}\n` +
      'Install it with  sudo apt-get install python3-aiohttp  (Debian/Ubuntu) or  python3 -m pip install aiohttp;\n' +
      'set PYTHON=/path/to/python3 to use another interpreter.',
  );
}
if (!existsSync(join(root, 'packages/sdk/dist/src/register.js'))) fail('the SDK is not built: run `npx tsc -b packages/sdk` first (npm run conformance:w3c does).');

function freePort() {
  return new Promise((done, reject) => {
    const probeServer = createServer();
    probeServer.on('error', reject);
    probeServer.listen(0, '127.0.0.1', () => {
      const { port } = probeServer.address();
      probeServer.close(() => done(port));
    });
  });
}

// The app's spans go to this sink, so the run needs no collector and shows what the app traced.
const exported = { server: 0, client: 0, traces: new Set() };
const sink = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    try {
      const { spans } = (req.headers['content-type'] ?? '').includes('json') ? decodeOtlpJson(JSON.parse(body.toString('utf8'))) : decodeOtlpProto(body);
      for (const span of spans) {
        if (span.kind === 'server' || span.kind === 'client') exported[span.kind]++;
        exported.traces.add(span.traceId);
      }
    } catch (error) {
      process.stderr.write(`conformance:w3c: could not decode the app's spans: ${error.message}\n`);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise((done) => sink.listen(0, '127.0.0.1', done));

const app = spawn(process.execPath, ['--import', '@linktrace/sdk/register', join(root, 'scripts/w3c-conformance-app.mjs')], {
  cwd: root,
  env: { ...process.env, LINKTRACE_SERVICE: 'w3c-conformance', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.address().port}` },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const appPort = await new Promise((done) => {
  let out = '';
  app.stdout.setEncoding('utf8').on('data', (chunk) => {
    out += chunk;
    const newline = out.indexOf('\n');
    if (newline >= 0) done(JSON.parse(out.slice(0, newline)).port);
  });
  app.on('exit', (code) => fail(`the app exited before listening (code ${code})`));
});

const harnessPort = String(process.env.HARNESS_PORT ?? (await freePort()));
process.stdout.write(`conformance:w3c: app on 127.0.0.1:${appPort}, harness on 127.0.0.1:${harnessPort}, suite ${testDir}\n`);
// SPEC_LEVEL=2 runs the Level 2 tests too; only Level 1 decides the exit code.
const harness = spawn(python, ['test.py', `http://127.0.0.1:${appPort}/test`], {
  cwd: testDir,
  env: { ...process.env, STRICT_LEVEL: '2', SPEC_LEVEL: '2', HARNESS_HOST: '127.0.0.1', HARNESS_PORT: harnessPort },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let report = '';
harness.stdout.setEncoding('utf8').on('data', (chunk) => (report += chunk));
harness.stderr.setEncoding('utf8').on('data', (chunk) => {
  report += chunk;
  process.stderr.write(chunk);
});
const harnessCode = await new Promise((done) => harness.on('exit', (code) => done(code)));
app.removeAllListeners('exit');
app.kill('SIGTERM');
await new Promise((done) => app.on('exit', done));
sink.close();

// unittest's verbose lines: "test_name (__main__.Suite) ... ok|FAIL|ERROR|skipped '…'"
const counts = { 1: { pass: 0, fail: 0, skip: 0 }, 2: { pass: 0, fail: 0, skip: 0 } };
const failed = [];
for (const match of report.matchAll(/^(test_\w+) \((?:__main__\.)?(\w+)(?:\.\w+)?\)(?:\n.*?)? \.\.\. (ok|FAIL|ERROR|skipped)/gm)) {
  const [, name, suite, outcome] = match;
  const level = LEVEL_1_SUITES.has(suite) ? 1 : LEVEL_2_SUITES.has(suite) ? 2 : undefined;
  if (level === undefined) continue;
  const bucket = outcome === 'ok' ? 'pass' : outcome === 'skipped' ? 'skip' : 'fail';
  counts[level][bucket]++;
  if (bucket === 'fail') failed.push(`${suite}.${name} (level ${level})`);
}
const line = (level) => `Level ${level}: ${counts[level].pass} passed, ${counts[level].fail} failed, ${counts[level].skip} skipped`;
process.stdout.write(`\nconformance:w3c (STRICT_LEVEL=2)\n  ${line(1)}\n  ${line(2)}\n  app spans exported (sampled requests only): ${exported.server} server, ${exported.client} client, in ${exported.traces.size} traces\n`);
for (const name of failed) process.stdout.write(`  failed: ${name}\n`);
const level1Total = counts[1].pass + counts[1].fail;
if (level1Total === 0) fail(`the harness ran no Level 1 test (exit code ${harnessCode}); see its output above`);
process.exit(counts[1].fail === 0 ? 0 : 1);
