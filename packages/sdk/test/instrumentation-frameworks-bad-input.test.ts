import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTracing } from '../src/index.js';
import { instrument, isWrapped, type Instrumentation } from '../src/instrumentations/core/index.js';
import { resetWarnings } from '../src/instrumentations/core/warn-once.js';
import { expressInstrumentation } from '../src/instrumentations/express/index.js';
import { fastifyInstrumentation } from '../src/instrumentations/fastify/index.js';
import { koaInstrumentation } from '../src/instrumentations/koa/index.js';
import { captureStderr, fakePackage } from './fake-package.js';

const tracing = createTracing({ service: 'frameworks-bad-input' });

/**
 * Loads a fake package with the instrumentation on; returns its exports and the warnings about it
 * (fakes of earlier tests stay in the require cache and are warned about again at enable).
 */
function loadFake(instrumentation: Instrumentation, name: string, version: string, main: string): { exports: unknown; warnings: string[] } {
  resetWarnings();
  const root = fakePackage(name, version, main);
  let exports: unknown;
  const text = captureStderr(() => {
    const handle = instrument({ tracing, instrumentations: [instrumentation] });
    try {
      exports = createRequire(join(root, 'index.js'))(name);
    } finally {
      handle.disable();
    }
  });
  return { exports, warnings: text.split('\n').filter((line) => line.includes(`${name}@${version}`)) };
}

describe('framework instrumentations on packages they do not know', () => {
  it('express 4 (its own router) is refused with one warning', () => {
    const { warnings } = loadFake(expressInstrumentation(), 'express', '4.21.2', 'module.exports = function express() {};\n');
    assert.deepEqual(warnings, [
      'linktrace: instrumentation express: could not patch express@4.21.2; left untouched: version 4.21.2 is not supported (supported: express 5.x)',
    ]);
  });

  it('a router without the diagnostics channel (< 2.3) is left untouched', () => {
    const main = 'function Router() {} Router.prototype.handle = function handle() { return "original"; }; module.exports = Router;\n';
    const { exports, warnings } = loadFake(expressInstrumentation(), 'router', '2.2.0', main);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /could not patch router@2\.2\.0; left untouched: version 2\.2\.0 has no diagnostics channel/);
    assert.equal(isWrapped((exports as { prototype: { handle: unknown } }).prototype.handle), false);
  });

  it('a router with an unexpected export shape is left untouched', () => {
    const { exports, warnings } = loadFake(expressInstrumentation(), 'router', '2.3.0', 'module.exports = { handle() {} };\n');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /could not patch router@2\.3\.0; left untouched: unexpected export shape/);
    assert.equal(isWrapped((exports as { handle: unknown }).handle), false);
  });

  it('a koa without handleRequest is left untouched (use is not wrapped either)', () => {
    const main = 'module.exports = class Application { use(fn) { return this; } emit() { return false; } };\n';
    const { exports, warnings } = loadFake(koaInstrumentation(), 'koa', '3.0.0', main);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /could not patch koa@3\.0\.0; left untouched: unexpected export shape/);
    const proto = (exports as { prototype: { use: unknown; emit: unknown } }).prototype;
    assert.equal(isWrapped(proto.use), false);
    assert.equal(isWrapped(proto.emit), false);
  });

  it('a koa of an unknown major is left untouched', () => {
    const main = 'module.exports = class Application { use() { return this; } handleRequest() {} emit() { return false; } };\n';
    const { exports, warnings } = loadFake(koaInstrumentation(), 'koa', '4.0.0', main);
    assert.deepEqual(warnings, ['linktrace: instrumentation koa: could not patch koa@4.0.0; left untouched: version 4.0.0 is not supported (supported: koa 2.x–3.x)']);
    assert.equal(isWrapped((exports as { prototype: { handleRequest: unknown } }).prototype.handleRequest), false);
  });

  it('a fastify of an unknown major gets one warning', () => {
    const { warnings } = loadFake(fastifyInstrumentation(), 'fastify', '6.0.0', 'module.exports = function fastify() {};\n');
    assert.deepEqual(warnings, ['linktrace: instrumentation fastify: could not patch fastify@6.0.0; left untouched: version 6.0.0 is not supported (supported: fastify 5.x)']);
  });
});
