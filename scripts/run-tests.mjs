#!/usr/bin/env node
// Runs every compiled test file of every workspace with node's built-in test runner.
// Tests are compiled by `tsc -b` first (npm test does that), so they exercise the shipped JS.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['packages', 'examples', 'bench'];
const filter = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

const files = [];
for (const root of roots) {
  if (!existsSync(root)) continue;
  for (const pkg of readdirSync(root)) {
    const testDir = join(root, pkg, 'dist', 'test');
    if (existsSync(testDir)) walk(testDir, files);
  }
  if (root === 'bench' && existsSync(join(root, 'dist', 'test'))) walk(join(root, 'dist', 'test'), files);
}
const selected = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;
if (selected.length === 0) {
  console.error('run-tests: no compiled test files found; run `npm run build` first');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', '--test-concurrency=2', ...selected],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
