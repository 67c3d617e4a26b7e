/** Spans and shared fixtures for the trace-assembly tests. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// From packages/analysis/dist/test/ up to the repository's parent directory.
const FIXTURES = new URL('../../../../../shared/fixtures/', import.meta.url);

export function readFixtureJson(relative: string): unknown {
  const path = fileURLToPath(new URL(relative, FIXTURES));
  if (!existsSync(path)) throw new Error(`fixture missing: ${path} (the shared fixtures must sit next to the repository)`);
  return JSON.parse(readFileSync(path, 'utf8'));
}

// The span factory (a plain finished span at T0; `over` replaces any field) is the model's test support.
export { span, T0 } from '@linktrace/model/testing';
