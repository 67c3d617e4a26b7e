/**
 * Call-graph rows as Alibaba's 2021/2022 microservice traces record them (columns of MSCallGraph,
 * see cluster-trace-microservices-v2022/README.md in alibaba/clusterdata). The rows are synthesised
 * in that shape (the data set itself is not in the repository): positions with a `0` segment and
 * very large segments are real there and must be imported; segments beyond 2^53 - 1 and rpcids past
 * the length bound are refused, each with its reason, and counted.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareRpcid, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { importCommand } from '../src/cli/import.js';
import type { CliIo } from '../src/cli/cli-io.js';
import { importedTraceId, positionSpanId } from '../src/import/imported-ids.js';
import { Capture, tempDir } from './query-test-support.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function io(): CliIo & { out: Capture; err: Capture } {
  const out = new Capture();
  const err = new Capture(false, 100);
  return { stdout: out, stderr: err, out, err, setExitCode: () => undefined, now: () => 1_700_000_000_000, env: {} };
}

const TRACE = '0b51a5a216547689766931000e5ad7';
const LONG = '0' + '.1'.repeat(40) + '.1234567890'.repeat(16); // depth 56, 257 characters

const ROWS = [
  ',timestamp,traceid,service,rpc_id,um,uminstanceid,rpctype,interface,dm,dminstanceid,rt',
  `0,263941,${TRACE},S_107498760,0,USER,(?),http,/api/q,MS_27421,MS_27421_POD_10,-9.0`,
  `1,263941,${TRACE},S_107498760,0.0,MS_27421,MS_27421_POD_10,mc,mc_get,MC_1,(?),0.0`,
  `2,263942,${TRACE},S_107498760,0.1,MS_27421,MS_27421_POD_10,rpc,Zw2s,MS_6634,MS_6634_POD_3,4.0`,
  `3,263942,${TRACE},S_107498760,0.1,MS_27421,MS_27421_POD_10,rpc,Zw2s,MS_6634,MS_6634_POD_3,-3.0`,
  `4,263943,${TRACE},S_107498760,0.1.0,MS_6634,MS_6634_POD_3,db,db_read,DB_2,(?),1.0`,
  `5,263943,${TRACE},S_107498760,0.1.1,MS_6634,MS_6634_POD_3,rpc,k1Xx,MS_512,MS_512_POD_7,2.0`,
  `6,263944,${TRACE},S_107498760,0.1.1.2.7.1.21.0,MS_512,MS_512_POD_7,mc,mc_set,MC_9,(?),0.0`,
  `7,263945,${TRACE},S_107498760,0.3.17.1.112512741,MS_512,MS_512_POD_7,mq,q_pub,MS_90,MS_90_POD_1,5.0`,
  `8,263946,${TRACE},S_107498760,0.1.9007199254740992,MS_6634,MS_6634_POD_3,rpc,bad,MS_1,,1.0`,
  `9,263946,${TRACE},S_107498760,${LONG},MS_6634,MS_6634_POD_3,rpc,bad,MS_1,,1.0`,
  `10,263946,${TRACE},S_107498760,0.01,MS_6634,MS_6634_POD_3,rpc,bad,MS_1,,1.0`,
].join('\n');

void test('Alibaba call-graph rows: 0 segments and large segments are imported, with parents; oversized rpcids are refused with a reason and counted', async () => {
  const d = tempDir('lt-callgraph-rpcid-');
  dirs.push(d);
  const file = join(d, 'MSCallGraph_0.csv');
  writeFileSync(file, ROWS);
  const data = join(d, 'data');
  const c = io();
  assert.equal(await importCommand([file], { data }, c), 0);
  assert.match(c.out.text, /^imported 8 spans from 1 file .*, 3 bad lines\n$/);
  assert.equal(
    c.err.text,
    [
      'problems:',
      `  ${file}:10: rpcid "0.1.9007199254740992": segment 9007199254740992 is larger than 2^53 - 1`,
      `  ${file}:11: rpcid "${LONG.slice(0, 40)}…": longer than 256 characters`,
      `  ${file}:12: rpcid "0.01": not a position id like 0.1.2`,
      '',
    ].join('\n'),
  );

  const traceId = importedTraceId(TRACE);
  const store = await openEmbeddedStore({ dataDir: data });
  let spans: Span[];
  try {
    spans = await store.getTrace(traceId);
  } finally {
    await store.close();
  }
  const keys = spans.map((s) => `${s.rpcid}/${s.kind}`).sort();
  assert.deepStrictEqual(keys, [
    '0.0/client',
    '0.1.0/client',
    '0.1.1.2.7.1.21.0/client',
    '0.1.1/client',
    '0.1/client',
    '0.1/server',
    '0.3.17.1.112512741/consumer',
    '0/server',
  ]);
  const at = (rpcid: string, kind: Span['kind']): Span => spans.find((s) => s.rpcid === rpcid && s.kind === kind)!;
  // Parents come from the position: a 0 segment is a child like any other.
  assert.equal(at('0.0', 'client').parentSpanId, positionSpanId(traceId, '0'));
  assert.equal(at('0.0', 'client').parentSpanId, at('0', 'server').spanId);
  assert.equal(at('0.1.0', 'client').parentSpanId, at('0.1', 'server').spanId);
  assert.equal(at('0.1.1.2.7.1.21.0', 'client').parentSpanId, positionSpanId(traceId, '0.1.1.2.7.1.21'));
  assert.equal(at('0.3.17.1.112512741', 'consumer').parentSpanId, positionSpanId(traceId, '0.3.17.1'));
  assert.notEqual(at('0.0', 'client').spanId, at('0', 'server').spanId, 'position 0.0 is not position 0');
  // And they sort as positions: a 0 child first among its siblings, segments by number.
  const order = [...new Set(spans.map((s) => s.rpcid!))].sort(compareRpcid);
  assert.deepStrictEqual(order, ['0', '0.0', '0.1', '0.1.0', '0.1.1', '0.1.1.2.7.1.21.0', '0.3.17.1.112512741']);
});
