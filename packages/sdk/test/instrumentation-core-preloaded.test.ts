import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTracing } from '../src/index.js';
import { instrument, type ModuleTarget } from '../src/instrumentations/core/index.js';

/** One app directory with two packages, `first-lib` requiring `second-lib` (like express → router). */
function twoPackageApp(): string {
  const root = mkdtempSync(join(tmpdir(), 'lt-preloaded-'));
  for (const [name, body] of [
    ['first-lib', 'require("second-lib"); exports.first = () => "first";\n'],
    ['second-lib', 'exports.second = () => "second";\n'],
  ] as const) {
    const dir = join(root, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
    writeFileSync(join(dir, 'index.js'), body);
  }
  return root;
}

function target(name: string, seen: string[]): ModuleTarget {
  return { package: name, patch: () => void seen.push(name), unpatch() {} };
}

describe('instrumentation core: packages loaded before enable', () => {
  it('every target finds its package in the require cache, whatever the order of the watches', () => {
    const root = twoPackageApp();
    createRequire(join(root, 'index.js'))('first-lib');
    const seen: string[] = [];
    // The first watch classifies every cached file; the second package must still be found after.
    const handle = instrument({
      tracing: createTracing({ service: 'preloaded' }),
      instrumentations: [{ name: 'two', targets: [target('first-lib', seen), target('second-lib', seen)] }],
    });
    assert.deepEqual(seen, ['first-lib', 'second-lib']);
    handle.disable();
  });
});
