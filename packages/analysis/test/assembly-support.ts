/** Spans and shared fixtures for the trace-assembly tests. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Span } from '@linktrace/model';

// From packages/analysis/dist/test/ up to the repository's parent directory.
const FIXTURES = new URL('../../../../../shared/fixtures/', import.meta.url);

export function readFixtureJson(relative: string): unknown {
  const path = fileURLToPath(new URL(relative, FIXTURES));
  if (!existsSync(path)) throw new Error(`fixture missing: ${path} (the shared fixtures must sit next to the repository)`);
  return JSON.parse(readFileSync(path, 'utf8'));
}

export const T0 = 1_700_000_000_000_000;

/** A plain finished span; `over` replaces any field. */
export function span(over: Partial<Span> & Pick<Span, 'traceId' | 'spanId'>): Span {
  return {
    service: 'svc',
    name: 'op',
    kind: 'internal',
    startUs: T0,
    durationUs: 100,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    ...over,
  };
}
