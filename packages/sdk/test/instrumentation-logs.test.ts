import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { activeContext, createTracing, runWithContext, type SpanHandle } from '../src/index.js';
import { instrument, isWrapped } from '../src/instrumentations/core/index.js';
import { resetWarnings } from '../src/instrumentations/core/warn-once.js';
import { captureStderr, fakePackage } from './fake-package.js';
import { pinoInstrumentation } from '../src/instrumentations/pino/index.js';
import { winstonInstrumentation } from '../src/instrumentations/winston/index.js';
// Types only: the libraries themselves are required inside the tests, after or before enable.
import type { pino as PinoFactory } from 'pino';
import type * as WinstonModule from 'winston';
import type TransportStream from 'winston-transport';

const require = createRequire(import.meta.url);
const tracing = createTracing({ service: 'instr-logs-test' });
const tracer = tracing.getTracer('logs-test');

interface Line {
  [key: string]: unknown;
}

function inSpan<R>(name: string, fn: (span: SpanHandle) => R): R {
  const span = tracer.startSpan(name);
  try {
    return runWithContext(activeContext().withSpan(span), () => fn(span));
  } finally {
    span.end();
  }
}

function assertFields(line: Line, span: SpanHandle): void {
  assert.equal(line.trace_id, span.traceId);
  assert.equal(line.span_id, span.spanId);
  assert.equal(line.rpcid, span.rpcid);
  assert.match(String(line.trace_id), /^[0-9a-f]{32}$/);
  assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
}

function assertNoFields(line: Line): void {
  assert.equal('trace_id' in line, false, JSON.stringify(line));
  assert.equal('span_id' in line, false);
  assert.equal('rpcid' in line, false);
}

describe('pino', () => {
  type Pino = typeof PinoFactory;

  it('adds trace_id, span_id and rpcid inside a span only, to children and to loggers made before enable', () => {
    const pino = require('pino') as Pino;
    const lines: Line[] = [];
    const stream = { write: (s: string) => void lines.push(JSON.parse(s) as Line) };
    const early = pino({ base: null, timestamp: false }, stream);
    const handle = instrument({ tracing, instrumentations: [pinoInstrumentation()] });
    try {
      assert.deepEqual(handle.enabled, ['pino']);
      const logger = pino({ base: null, timestamp: false }, stream);
      logger.info('outside');
      const span = inSpan('work', (s) => {
        logger.info({ shop: 42 }, 'inside');
        logger.child({ component: 'sync' }).warn('child');
        early.info('early');
        logger.error(new Error('bad'));
        // A field the caller set wins over ours, as with a pino mixin.
        logger.info({ rpcid: 'mine' }, 'own rpcid');
        return s;
      });
      logger.info('after');
      assert.deepEqual(lines.map((l) => l.msg), ['outside', 'inside', 'child', 'early', 'bad', 'own rpcid', 'after']);
      assert.deepEqual(lines[0], { level: 30, msg: 'outside' });
      assertFields(lines[1]!, span);
      assert.equal(lines[1]!.shop, 42);
      assertFields(lines[2]!, span);
      assert.equal(lines[2]!.component, 'sync');
      assertFields(lines[3]!, span);
      assertFields(lines[4]!, span);
      assert.equal((lines[4]!.err as { message: string }).message, 'bad');
      assert.equal(lines[5]!.rpcid, 'mine');
      assert.equal(lines[5]!.trace_id, span.traceId);
      assertNoFields(lines[6]!);
    } finally {
      handle.disable();
    }
    lines.length = 0;
    inSpan('after-disable', () => pino({ base: null, timestamp: false }, stream).info('x'));
    assert.deepEqual(lines, [{ level: 30, msg: 'x' }]);
  });

  it('a nested span shows its own ids and rpcid', () => {
    const pino = require('pino') as Pino;
    const lines: Line[] = [];
    const logger = pino({ base: null, timestamp: false }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
    const handle = instrument({ tracing, instrumentations: [pinoInstrumentation()] });
    try {
      inSpan('outer', (outer) => {
        inSpan('inner', (inner) => {
          logger.info('in inner');
          assertFields(lines[0]!, inner);
          assert.equal(inner.rpcid, `${outer.rpcid}.1`);
        });
      });
    } finally {
      handle.disable();
    }
  });

  it('a package named pino with an unexpected shape or version is left untouched, with one warning', () => {
    resetWarnings();
    const shapeless = fakePackage('pino', '10.0.0', 'module.exports = function pino() { return { info() {} }; };\n');
    const future = fakePackage('pino', '99.0.0', 'module.exports = function pino() {}; module.exports.symbols = { asJsonSym: Symbol("x") };\n');
    const handle = instrument({ tracing, instrumentations: [pinoInstrumentation()] });
    try {
      let fake: unknown;
      const warnings = captureStderr(() => {
        fake = createRequire(join(shapeless, 'index.js'))('pino');
        createRequire(join(future, 'index.js'))('pino');
      });
      assert.match(warnings, /instrumentation pino: could not patch pino@10\.0\.0; left untouched: unexpected export shape/);
      assert.match(warnings, /instrumentation pino: could not patch pino@99\.0\.0; left untouched: version 99\.0\.0 is not supported/);
      assert.equal(warnings.split('\n').filter(Boolean).length, 2);
      assert.equal(typeof fake, 'function');
      assert.equal(Object.keys(fake as object).length, 0);
    } finally {
      handle.disable();
    }
  });
});

describe('winston', () => {
  type Winston = typeof WinstonModule;

  function streamLogger(winston: Winston, lines: Line[]) {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const text of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(text) as Line);
        callback();
      },
    });
    return winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  }

  it('adds trace_id, span_id and rpcid inside a span only, for createLogger, child loggers and every call form', () => {
    const winston = require('winston') as Winston;
    const lines: Line[] = [];
    const early = streamLogger(winston, lines);
    const handle = instrument({ tracing, instrumentations: [winstonInstrumentation()] });
    try {
      assert.deepEqual(handle.enabled, ['winston']);
      const logger = streamLogger(winston, lines);
      logger.info('outside');
      const span = inSpan('work', (s) => {
        logger.info('inside', { shop: 42 });
        logger.log('warn', 'via log');
        logger.log({ level: 'info', message: 'info object' });
        logger.child({ component: 'sync' }).error('child');
        early.info('early');
        logger.info('own', { trace_id: 'mine' });
        return s;
      });
      logger.info('after');
      assert.deepEqual(lines.map((l) => l.message), ['outside', 'inside', 'via log', 'info object', 'child', 'early', 'own', 'after']);
      assert.deepEqual(lines[0], { level: 'info', message: 'outside' });
      for (const line of lines.slice(1, 6)) assertFields(line, span);
      assert.equal(lines[1]!.shop, 42);
      assert.equal(lines[4]!.component, 'sync');
      assert.equal(lines[6]!.trace_id, 'mine');
      assert.equal(lines[6]!.span_id, span.spanId);
      assert.deepEqual(lines[7], { level: 'info', message: 'after' });
    } finally {
      handle.disable();
    }
    assert.equal(Object.hasOwn(winston.Logger.prototype, 'write'), false, 'disable removes the wrapper');
    lines.length = 0;
    inSpan('after-disable', () => streamLogger(winston, lines).info('x'));
    assert.deepEqual(lines, [{ level: 'info', message: 'x' }]);
  });

  it('records buffered behind a slow transport keep the span they were logged in', async () => {
    // A transport that holds its callbacks makes winston buffer records and run their formats
    // later, in whatever context is active then (a format-based injection gets some of them wrong).
    const winston = require('winston') as Winston;
    const seen: Line[] = [];
    const pending: (() => void)[] = [];
    // The runtime export `winston.Transport` is winston-transport's class (untyped on winston).
    const Transport = (winston as unknown as { Transport: typeof TransportStream }).Transport;
    class SlowTransport extends Transport {
      override log(info: Line, callback: () => void): void {
        seen.push(info);
        pending.push(callback);
      }
    }
    const handle = instrument({ tracing, instrumentations: [winstonInstrumentation()] });
    try {
      const logger = winston.createLogger({ transports: [new SlowTransport()] });
      const spans: SpanHandle[] = [];
      for (let i = 0; i < 40; i++) {
        inSpan(`s${i}`, (s) => {
          spans.push(s);
          logger.info(`m${i}`);
        });
      }
      assert.ok(seen.length < 40, 'the transport holds records back');
      for (let round = 0; round < 100 && seen.length < 40; round++) {
        for (const callback of pending.splice(0)) callback();
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(seen.length, 40);
      seen.forEach((line, i) => {
        assert.equal(line.message, `m${i}`);
        assertFields(line, spans[i]!);
      });
    } finally {
      handle.disable();
    }
  });

  it('a package named winston with an unexpected shape is left untouched, with one warning', () => {
    resetWarnings();
    const root = fakePackage('winston', '3.9.0', 'exports.createLogger = function createLogger() { return {}; };\n');
    const handle = instrument({ tracing, instrumentations: [winstonInstrumentation()] });
    try {
      let fake: { createLogger: unknown } | undefined;
      const warnings = captureStderr(() => {
        fake = createRequire(join(root, 'index.js'))('winston') as { createLogger: unknown };
      });
      assert.match(warnings, /instrumentation winston: could not patch winston@3\.9\.0; left untouched: unexpected export shape/);
      assert.deepEqual(Object.keys(fake!), ['createLogger']);
      assert.equal(isWrapped(fake!.createLogger), false);
    } finally {
      handle.disable();
    }
  });
});

describe('console', () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const script = `
import { activeContext, createTracing, runWithContext } from ${JSON.stringify(pathToFileURL(join(here, '..', 'src', 'index.js')).href)};
import { instrument } from ${JSON.stringify(pathToFileURL(join(here, '..', 'src', 'instrumentations', 'core', 'index.js')).href)};
import { consoleInstrumentation } from ${JSON.stringify(pathToFileURL(join(here, '..', 'src', 'instrumentations', 'console', 'index.js')).href)};
const tracer = createTracing({ service: 'console-child' }).getTracer('t');
const handle = instrument({ instrumentations: [consoleInstrumentation()] });
console.log('outside %s', 'a');
const span = tracer.startSpan('work');
runWithContext(activeContext().withSpan(span), () => {
  console.log('log %s=%d', 'n', 5);
  console.info({ shop: 42 });
  console.warn('warn');
  console.error('error', 7);
  console.debug('debug');
  console.log();
});
process.stderr.write('IDS ' + span.traceId + ' ' + span.spanId + ' ' + span.rpcid + '\\n');
span.end();
console.log('after');
handle.disable();
runWithContext(activeContext().withSpan(tracer.startSpan('off')), () => console.log('disabled'));
`;

  it('prefixes console output inside a span with trace_id=… span_id=… rpcid=…, and nothing else changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lt-console-'));
    const file = join(dir, 'main.mjs');
    writeFileSync(file, script);
    const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 0, run.stderr);
    const errLines = run.stderr.split('\n');
    const ids = /^IDS ([0-9a-f]{32}) ([0-9a-f]{16}) (\S+)$/.exec(errLines[2] ?? '');
    assert.ok(ids, run.stderr);
    const p = `trace_id=${ids[1]} span_id=${ids[2]} rpcid=${ids[3]}`;
    assert.equal(ids[3], '0');
    assert.deepEqual(run.stdout.split('\n'), ['outside a', `${p} log n=5`, `${p} { shop: 42 }`, `${p} debug`, '', 'after', 'disabled', '']);
    assert.deepEqual(errLines, [`${p} warn`, `${p} error 7`, errLines[2], '']);
  });
});
