import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvFields } from '../src/import/csv-fields.js';
import { formatFromName, sniffFormat } from '../src/import/file-format.js';
import { MAX_LINE_CHARS, readLines } from '../src/import/line-reader.js';

async function* chunks(parts: (string | Buffer)[], pulled?: { n: number }): AsyncGenerator<Buffer> {
  for (const p of parts) {
    // A real stream yields between chunks.
    await Promise.resolve();
    if (pulled !== undefined) pulled.n++;
    yield typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
  }
}

async function lines(parts: (string | Buffer)[]): Promise<[string, number][]> {
  const out: [string, number][] = [];
  await readLines(chunks(parts), { line: (t, n) => void out.push([t, n]), tooLong: (n) => void out.push(['<too long>', n]) });
  return out;
}

void test('line reader: lines across chunk boundaries, CRLF, a BOM, a UTF-8 character split between chunks, no final newline', async () => {
  const euro = Buffer.from('€', 'utf8');
  assert.deepEqual(await lines(['\ufeffa,b\r\nc', 'd\n\n', Buffer.concat([Buffer.from('x'), euro.subarray(0, 1)]), Buffer.concat([euro.subarray(1), Buffer.from('y\nlast')])]), [
    ['a,b', 1],
    ['cd', 2],
    ['', 3],
    ['x€y', 4],
    ['last', 5],
  ]);
  assert.deepEqual(await lines([]), []);
  assert.deepEqual(await lines(['one\n']), [['one', 1]]);
});

void test('line reader: a line longer than the limit is reported, not buffered, and reading goes on', async () => {
  const big = 'x'.repeat(1024 * 1024);
  const parts = ['ok\n', ...Array.from({ length: Math.ceil(MAX_LINE_CHARS / big.length) + 1 }, () => big), '\nafter\n'];
  assert.deepEqual(await lines(parts), [
    ['ok', 1],
    ['<too long>', 2],
    ['after', 3],
  ]);
});

void test('line reader: a pending write holds back reading (back-pressure)', async () => {
  const pulled = { n: 0 };
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let seenAtGate = -1;
  const done = readLines(chunks(['a\n', 'b\n', 'c\n', 'd\n'], pulled), {
    line: (t) => {
      if (t === 'a') {
        seenAtGate = pulled.n;
        return gate;
      }
      return undefined;
    },
    tooLong: () => {},
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(seenAtGate, 1);
  assert.equal(pulled.n, 1, 'no chunk read while the handler waits');
  release();
  assert.equal(await done, 4);
  assert.equal(pulled.n, 4);
});

void test('CSV fields: plain, quoted with commas and doubled quotes, empty fields, an unclosed quote', () => {
  assert.deepEqual(csvFields('a,b,,c'), ['a', 'b', '', 'c']);
  assert.deepEqual(csvFields('"a,b",c'), ['a,b', 'c']);
  assert.deepEqual(csvFields('x,"say ""hi""",'), ['x', 'say "hi"', '']);
  assert.deepEqual(csvFields('"",""'), ['', '']);
  assert.deepEqual(csvFields('"a"b,c'), ['ab', 'c']);
  assert.equal(csvFields('a,"open'), undefined);
});

void test('format detection: by extension (through .gz), else by content', () => {
  assert.equal(formatFromName('/x/a.json'), 'json');
  assert.equal(formatFromName('a.JSONL'), 'jsonl');
  assert.equal(formatFromName('a.ndjson.gz'), 'jsonl');
  assert.equal(formatFromName('CallGraph_0.csv.gz'), 'csv');
  assert.equal(formatFromName('a.txt'), undefined);
  assert.equal(formatFromName('/dir.json/file'), undefined);
  assert.equal(formatFromName('.json'), undefined);
  assert.equal(sniffFormat('[\n {"traceId": "a"}\n]\n', true), 'json');
  assert.equal(sniffFormat('{"resourceSpans": []}\n', true), 'json');
  assert.equal(sniffFormat('{"a":1}\n{"a":2}\n', true), 'jsonl');
  assert.equal(sniffFormat('\ufeff  {"a":1}\n{"a"', false), 'jsonl');
  assert.equal(sniffFormat('{"a":', false), 'json');
  assert.equal(sniffFormat(',timestamp,traceid,service,rpc_id,rpctype,um,uminstanceid,interface,dm,dminstanceid,rt\n0,1', false), 'csv');
  assert.equal(sniffFormat('a,b,c\n1,2,3\n', true), undefined);
  assert.equal(sniffFormat('hello', true), undefined);
  assert.equal(sniffFormat('   ', true), undefined);
});
