import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readLogRecord, scanLogRecord, type LogRecord } from '../src/index.js';
import { StartTable, type StartChained } from '../src/inference/start-table.js';
import { generateLogs } from '../src/testing/index.js';

/** What the full parser makes of a line: its record, or undefined for a problem. */
function fullParse(line: string): LogRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = readLogRecord(value, 0);
  return 'record' in r ? r.record : undefined;
}

const plain = '{"direction":"in","service":"auth","instance":"10.1.2.11:8081","endpoint":"GET /session","status":200,"remote":"10.1.1.10:32773","start":1767225600003188,"end":1767225600004198}';

describe('scanLogRecord (the fast path for plain JSON lines)', () => {
  it('reads every line the generator writes, exactly as JSON.parse and readLogRecord do', () => {
    const g = generateLogs({ seed: 3, concurrency: 0.3, skewUs: 2000, peers: true, traces: 60 });
    for (const { line: _line, startUs, endUs, ...r } of g.records) {
      const line = JSON.stringify({ ...r, start: startUs, end: endUs });
      const fast = scanLogRecord(line);
      assert.ok(fast !== undefined, `not read by the fast path: ${line}`);
      assert.deepStrictEqual(fast, fullParse(line));
    }
  });

  it('leaves to the full parser whatever it does not read exactly like it, never reading it differently', () => {
    const variants = [
      plain,
      plain.replace('"GET /session"', '"GET /s\\u00e9ssion"'), // an escape: decoded by JSON.parse
      plain.replace('"GET /session"', '"GET /se\\"ss"'), // an escaped quote
      plain.replace('"GET /session"', '"GET /se\tss"'), // a raw control character: refused by JSON.parse
      plain.replace('"auth"', '""'), // empty service: a problem
      plain.replace('"GET /session"', '""'), // empty endpoint: fine
      plain.replace('"10.1.1.10:32773"', '""'), // empty remote: absent
      plain.replace(',"status":200', ''),
      plain.replace('"status":200', '"status":200.5'),
      plain.replace('"status":200', '"status":-1'),
      plain.replace('"status":200', '"status":2e2'),
      plain.replace('"status":200', '"status":null'),
      plain.replace('"status":200', '"status":"200"'),
      plain.replace('"status":200', '"status":0200'), // not JSON
      plain.replace('"status":200', '"status":0'),
      plain.replace('1767225600004198', '1767225600003187'), // end before start
      plain.replace('1767225600004198', '99999999999999999999'), // out of range, beyond 2^53
      plain.replace('1767225600004198', '100000000000000000'), // 1e17 exactly: in range
      plain.replace('1767225600004198', '100000000000000001'), // just out of range
      plain.replace('1767225600003188', '1767225600003188.4'),
      plain.replace('"in"', '"sideways"'),
      plain.replace('"in"', '"out"'),
      plain.replace('"in"', '"IN"'),
      plain.replace('"in"', '1'),
      plain.replace(',"remote"', ', "remote"'), // whitespace
      plain.replace('"status"', '"colour"'), // an unknown field
      plain.replace('"status":200', '"status":200,"status":201'), // a repeated field
      plain.replace('"status":200', '"peer":"session-store"'),
      plain.replace('"status":200', '"local":"10.1.2.11:40000"'),
      plain.replace('"endpoint":"GET /session"', '"endpoint":"' + 'x'.repeat(1024) + '"'),
      plain.replace('"endpoint":"GET /session"', '"endpoint":"' + 'x'.repeat(1025) + '"'),
      plain.replace('"endpoint":"GET /session"', '"endpoint":{"a":1}'),
      plain.replace(',"start"', ',"sta\\u0072t"'), // an escaped key: JSON.parse reads "start"
      plain.replace('"service":"auth",', ''), // missing service
      plain.slice(0, -1), // cut short
      `${plain}}`,
      `${plain} `,
      '{}',
      '{"direction":"in"}',
      'not json',
    ];
    let fast = 0;
    for (const line of variants) {
      const got = scanLogRecord(line);
      if (got === undefined) continue;
      fast++;
      assert.deepStrictEqual(got, fullParse(line), line);
    }
    assert.ok(fast >= 8, `only ${fast} variants took the fast path`);
    // The same value twice (the second time from the recent-values table) and a lookalike of equal length and hash inputs.
    for (const endpoint of ['GET /aaaa/bbbb', 'GET /aaaa/bbbb', 'GET /aaxa/bbbb', 'GET /aaaa/bbbb']) {
      const line = plain.replace('GET /session', endpoint);
      assert.equal(scanLogRecord(line)?.endpoint, endpoint);
    }
  });
});

interface Item extends StartChained<Item> {
  s: number;
  name: string;
}

describe('StartTable (held records by start time)', () => {
  it('finds records by start, in arrival order, through growth and removal', () => {
    const table = new StartTable<Item>();
    const items: Item[] = [];
    // Starts that are multiples of 1000 (ms-resolution logs) and repeats of the same start; enough to grow the table.
    for (let i = 0; i < 20_000; i++) items.push({ s: 1_767_225_600_000_000 + 1000 * (i >> 1), name: String(i), sameNext: undefined });
    for (const x of items) table.add(x);
    const at = (s: number): string[] => {
      const found: string[] = [];
      for (let x = table.chain(s); x !== undefined; x = x.sameNext) if (x.s === s) found.push(x.name);
      return found;
    };
    assert.deepStrictEqual(at(items[9_000]!.s), ['9000', '9001']);
    table.remove(items[9_000]!);
    assert.deepStrictEqual(at(items[9_000]!.s), ['9001']);
    table.remove(items[9_000]!); // not there any more: nothing happens
    for (let i = 0; i < 20_000; i += 2) table.remove(items[i]!);
    for (let i = 1; i < 20_000; i += 1998) assert.deepStrictEqual(at(items[i]!.s), [String(i)]);
    assert.deepStrictEqual(at(1), []);
  });
});
