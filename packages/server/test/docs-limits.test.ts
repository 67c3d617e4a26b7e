/**
 * The documented defaults of the limits are the code's: docs/server.md's configuration table and
 * "Limits and abuse" section, and docs/errors.md's backlog bound (which once said 100 000 while the
 * code said 300 000).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseServeFlags } from '../src/cli/serve.js';
import { parseDuration, parseSize } from '../src/config.js';

const doc = (name: string): string => readFileSync(fileURLToPath(new URL(`../../../../docs/${name}`, import.meta.url)), 'utf8');

/** `| \`--flag <arg>\` | \`default\` | …` rows of the configuration table. */
function documentedDefaults(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of text.matchAll(/^\| `(--[a-z-]+)(?: <[a-z]+>)?` \| `([^`]+)` \|/gm)) rows.set(m[1]!, m[2]!);
  return rows;
}

describe('docs agree with the code on limits', () => {
  it("server.md's defaults, errors.md's backlog bound and the Limits and abuse section", () => {
    const server = doc('server.md');
    const o = parseServeFlags({});
    const documented = documentedDefaults(server);
    const expected: [string, (text: string) => number, number][] = [
      ['--max-request-size', (t) => parseSize(t), o.limits.maxRequestBytes],
      ['--max-decompressed-size', (t) => parseSize(t), o.limits.maxDecompressedBytes],
      ['--max-spans', Number, o.limits.maxSpansPerRequest],
      ['--max-attributes', Number, o.limits.maxAttributesPerSpan],
      ['--max-attribute-length', Number, o.limits.maxAttributeValueLength],
      ['--max-backlog', Number, o.pipeline.maxBacklogSpans],
      ['--header-timeout', (t) => parseDuration(t), o.timeouts.headerMs],
      ['--body-timeout', (t) => parseDuration(t), o.timeouts.bodyMs],
      ['--idle-timeout', (t) => parseDuration(t), o.timeouts.idleMs],
    ];
    for (const [flag, parse, value] of expected) {
      const text = documented.get(flag);
      assert.ok(text !== undefined, `docs/server.md documents ${flag}`);
      assert.equal(parse(text), value, `${flag}: documented ${text}`);
    }
    const backlog = o.pipeline.maxBacklogSpans.toLocaleString('en-US').replace(/,/g, ' ');
    assert.match(doc('errors.md'), new RegExp(`default ${backlog}; \`--max-backlog\``));
    const limits = server.slice(server.indexOf('## Limits and abuse'));
    assert.ok(limits.length > 0 && server.includes('## Limits and abuse'));
    for (const flag of expected.map((e) => e[0])) assert.ok(limits.slice(0, limits.indexOf('\n## ')).includes(`\`${flag}\``), `Limits and abuse lists ${flag}`);
  });
});
