import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { createTracing } from '../src/index.js';
import { instrument, isWrapped, originalOf, unwrap, wrap, type Instrumentation } from '../src/instrumentations/core/index.js';

/** A throwaway app directory with one CommonJS package in node_modules. */
function fakeApp(packageName: string, version = '1.2.3'): string {
  const root = mkdtempSync(join(tmpdir(), 'lt-instr-'));
  const dir = join(root, 'node_modules', packageName);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: packageName, version, main: 'lib/main.js' }));
  writeFileSync(join(dir, 'lib', 'main.js'), 'exports.greet = function greet(name) { return "hello " + name; };\n');
  writeFileSync(join(dir, 'lib', 'other.js'), 'exports.greet = function greet() { return "other"; };\n');
  writeFileSync(join(root, 'package.json'), '{"name":"app","version":"0.0.0"}');
  return root;
}

function greetInstrumentation(packageName: string, seen: string[], fail = false): Instrumentation {
  return {
    name: 'greet',
    targets: [
      {
        package: packageName,
        patch(exports, _ctx, loaded) {
          seen.push(`${loaded.name}@${loaded.version}`);
          const target = exports as { greet: (name: string) => string };
          wrap(target, 'greet', (original) => function (this: unknown, name: string) {
            return `${original.call(this, name)}!`;
          });
          if (fail) throw new Error('unknown version');
        },
        unpatch(exports) {
          unwrap(exports as { greet: () => string }, 'greet');
        },
      },
    ],
  };
}

const tracing = createTracing({ service: 'instr-core-test' });

describe('instrumentation core', () => {
  it('wrap keeps name and length, is idempotent and reversible', () => {
    const target = { add(a: number, b: number) { return a + b; } };
    assert.equal(wrap(target, 'add', (original) => function (this: unknown, a: number, b: number) { return original.call(this, a, b) * 10; }), true);
    assert.equal(wrap(target, 'add', (original) => original), false);
    assert.equal(target.add(1, 2), 30);
    assert.equal(target.add.name, 'add');
    assert.equal(target.add.length, 2);
    assert.equal(isWrapped(target.add), true);
    assert.equal(originalOf(target.add)(1, 2), 3);
    unwrap(target, 'add');
    assert.equal(target.add(1, 2), 3);
    assert.equal(isWrapped(target.add), false);
    assert.equal(wrap(target as unknown as { missing: () => void }, 'missing', (o) => o), false);
  });

  it('patches a package loaded by require after enable, with its version, and undoes it', () => {
    const root = fakeApp('greet-cjs');
    const seen: string[] = [];
    const handle = instrument({ tracing, instrumentations: [greetInstrumentation('greet-cjs', seen)] });
    const appRequire = createRequire(join(root, 'index.js'));
    const mod = appRequire('greet-cjs') as { greet: (n: string) => string };
    assert.equal(mod.greet('a'), 'hello a!');
    assert.deepEqual(seen, ['greet-cjs@1.2.3']);
    // A second require of the same file does not patch again; a non-main file is not patched.
    appRequire('greet-cjs');
    assert.equal((appRequire('greet-cjs/lib/other.js') as { greet: () => string }).greet(), 'other');
    assert.equal(seen.length, 1);
    handle.disable();
    assert.equal(mod.greet('a'), 'hello a');
  });

  it('patches a CommonJS package imported from an ES module', async () => {
    const root = fakeApp('greet-esm');
    writeFileSync(join(root, 'app.mjs'), 'import { greet } from "greet-esm"; export const out = greet("b");\n');
    const seen: string[] = [];
    const handle = instrument({ tracing, instrumentations: [greetInstrumentation('greet-esm', seen)] });
    const app = (await import(pathToFileURL(join(root, 'app.mjs')).href)) as { out: string };
    assert.equal(app.out, 'hello b!');
    assert.deepEqual(seen, ['greet-esm@1.2.3']);
    handle.disable();
  });

  it('patches a package that was loaded before enable', () => {
    const root = fakeApp('greet-early');
    const mod = createRequire(join(root, 'index.js'))('greet-early') as { greet: (n: string) => string };
    const seen: string[] = [];
    const handle = instrument({ tracing, instrumentations: [greetInstrumentation('greet-early', seen)] });
    assert.equal(mod.greet('c'), 'hello c!');
    handle.disable();
    assert.equal(mod.greet('c'), 'hello c');
  });

  it('a patch that throws leaves the library untouched', () => {
    const root = fakeApp('greet-broken', '9.9.9');
    const seen: string[] = [];
    const handle = instrument({ tracing, instrumentations: [greetInstrumentation('greet-broken', seen, true)] });
    const mod = createRequire(join(root, 'index.js'))('greet-broken') as { greet: (n: string) => string };
    assert.deepEqual(seen, ['greet-broken@9.9.9']);
    assert.equal(mod.greet('d'), 'hello d');
    assert.equal(isWrapped(mod.greet), false);
    handle.disable();
  });

  it('an instrumentation whose enable throws is left off, the others stay on', () => {
    let disabled = 0;
    const handle = instrument({
      tracing,
      instrumentations: [
        { name: 'broken', enable() { throw new Error('boom'); }, disable() { disabled++; } },
        { name: 'fine', enable() {} },
      ],
    });
    assert.deepEqual(handle.enabled, ['fine']);
    assert.equal(disabled, 1);
    handle.disable();
  });
});
