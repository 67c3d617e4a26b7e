/**
 * A damaged write-ahead-log record costs only itself: replay skips it (reporting segment and offset,
 * in the log and on /metrics) and replays every later record; old (version 1) segments still replay;
 * a checkpoint that points inside a record makes the segment replay from its start, and the store
 * holds each span once all the same.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { isWalTag } from '../src/pipeline/replay-wal.js';
import { WIRE_FORMAT } from '../src/ingest/wire-format.js';
import { crc32 } from '../src/wal/crc32.js';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, encodeRecordHeader } from '../src/wal/wal-record.js';
import { WriteAheadLog, type ReplayReport, type ReplayedRecord } from '../src/wal/write-ahead-log.js';
import { listSegments, segmentPath, writeCheckpoint } from '../src/wal/segment-files.js';
import { MemoryStore } from './memory-store.js';
import { tempDir } from './ingest-helpers.js';

const anyTag = (tag: number): boolean => tag >= 1 && tag <= 4;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir('linktrace-wal-damage-');
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Replayed {
  records: { tag: number; payload: Buffer; record: ReplayedRecord }[];
  report: ReplayReport;
}

async function replayAll(dir: string): Promise<Replayed> {
  const wal = await WriteAheadLog.open(dir, { segmentBytes: 1 << 20, isValidTag: anyTag });
  const records: Replayed['records'] = [];
  const report = await wal.replay((tag, payload, record) => {
    records.push({ tag, payload: Buffer.from(payload), record });
  });
  await wal.close();
  return { records, report };
}

/** Appends `payloads` (each acknowledged: fsynced) to a fresh log in `dir`; returns the segment path. */
async function writeLog(dir: string, payloads: Buffer[], tag = 1): Promise<string> {
  const wal = await WriteAheadLog.open(dir, { segmentBytes: 1 << 20, isValidTag: anyTag });
  for (const p of payloads) await wal.append(tag, p);
  await wal.close();
  const segments = await listSegments(dir);
  assert.equal(segments.length, 1);
  return segmentPath(dir, segments[0]);
}

/** Offset of record `i` in a version-2 segment of these payloads. */
function recordOffset(payloads: Buffer[], i: number): number {
  let offset = SEGMENT_HEADER_BYTES;
  for (let k = 0; k < i; k++) offset += RECORD_HEADER_BYTES + payloads[k].length;
  return offset;
}

/** A version-1 record, as the previous release wrote it: [len][crc][tag][payload]. */
function v1Record(tag: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUInt32LE(payload.length, 0);
  header[8] = tag;
  header.writeUInt32LE(crc32(payload, crc32(header.subarray(8, 9), crc32(header.subarray(0, 4)))), 4);
  return Buffer.concat([header, payload]);
}

function span(traceId: string, i: number): Span {
  return {
    traceId,
    spanId: (i + 1).toString(16).padStart(16, '0'),
    service: 'svc',
    name: `op-${i}`,
    kind: 'server',
    startUs: 1_700_000_000_000_000 + i,
    durationUs: 10,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
  };
}

/** One native-JSON request body per span: 20 records of one trace. */
function spanBodies(traceId: string, n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify(encodeNativeJson([span(traceId, i)]))));
}

describe('write-ahead log damage', () => {
  it('one flipped byte in the middle of 20 acknowledged records: 19 replayed, 1 reported with its offset', async () => {
    // Every part of the record: sync marker, length, checksum, tag, arrival time, payload.
    for (const at of [0, 5, 9, 12, 15, RECORD_HEADER_BYTES + 7]) {
      await withDir(async (dir) => {
        const data = Array.from({ length: 20 }, (_, i) => randomBytes(40 + i));
        const path = await writeLog(dir, data);
        const buf = await readFile(path);
        const bad = recordOffset(data, 10);
        buf[bad + at] ^= 0x5a;
        await writeFile(path, buf);
        const { records, report } = await replayAll(dir);
        assert.deepEqual(records.map((r) => r.payload), [...data.slice(0, 10), ...data.slice(11)], `byte ${at}`);
        assert.equal(report.damaged.length, 1, `byte ${at}`);
        const segment = (await listSegments(dir))[0] - 1;
        assert.deepEqual(report.damaged[0], { segment, offset: bad, bytes: RECORD_HEADER_BYTES + data[10].length });
        assert.equal(report.tornBytes, 0);
      });
    }
  });

  it('damage in the last record is reported, not taken for a torn write; a truncated tail is torn', async () => {
    await withDir(async (dir) => {
      const data = Array.from({ length: 5 }, (_, i) => randomBytes(30 + i));
      const path = await writeLog(dir, data);
      const buf = await readFile(path);
      buf[buf.length - 2] ^= 1;
      await writeFile(path, buf);
      const { records, report } = await replayAll(dir);
      assert.equal(records.length, 4);
      assert.equal(report.damaged.length, 1);
      assert.equal(report.damaged[0].offset, recordOffset(data, 4));
      assert.equal(report.tornBytes, 0);
    });
    await withDir(async (dir) => {
      const data = Array.from({ length: 5 }, (_, i) => randomBytes(30 + i));
      const path = await writeLog(dir, data);
      const size = (await readFile(path)).length;
      await truncate(path, size - 10);
      const { records, report } = await replayAll(dir);
      assert.deepEqual(records.map((r) => r.payload), data.slice(0, 4));
      assert.deepEqual(report.damaged, []);
      assert.equal(report.tornBytes, RECORD_HEADER_BYTES + data[4].length - 10);
    });
  });

  it('two damaged stretches and a torn tail in one segment: every good record in between is replayed', async () => {
    await withDir(async (dir) => {
      const data = Array.from({ length: 12 }, (_, i) => randomBytes(25 + i));
      const path = await writeLog(dir, data);
      const buf = await readFile(path);
      buf[recordOffset(data, 2) + RECORD_HEADER_BYTES] ^= 0xff;
      buf[recordOffset(data, 3) + 1] ^= 0xff; // adjacent: one stretch
      buf[recordOffset(data, 7) + 4] ^= 0x01;
      await writeFile(path, buf.subarray(0, buf.length - 3));
      const { records, report } = await replayAll(dir);
      assert.deepEqual(records.map((r) => r.payload), [data[0], data[1], data[4], data[5], data[6], data[8], data[9], data[10]]);
      assert.deepEqual(report.damaged.map((d) => d.offset), [recordOffset(data, 2), recordOffset(data, 7)]);
      assert.equal(report.tornBytes, RECORD_HEADER_BYTES + data[11].length - 3);
    });
  });

  it('a damaged record whose payload holds a whole record is skipped by its length: the embedded one is not replayed', async () => {
    await withDir(async (dir) => {
      const inner = Buffer.from('spans a sender chose');
      const embedded = Buffer.concat([encodeRecordHeader(2, inner), inner]);
      const data = [randomBytes(30), Buffer.concat([randomBytes(40), embedded, randomBytes(40)]), randomBytes(30)];
      const path = await writeLog(dir, data);
      const buf = await readFile(path);
      buf[recordOffset(data, 1) + RECORD_HEADER_BYTES + 3] ^= 0x08;
      await writeFile(path, buf);
      const { records, report } = await replayAll(dir);
      assert.deepEqual(records.map((r) => r.payload), [data[0], data[2]]);
      assert.deepEqual(report.damaged.map((d) => d.offset), [recordOffset(data, 1)]);
    });
  });

  it('a segment written in the old format (version 1) still replays, from its checkpoint', async () => {
    await withDir(async (dir) => {
      const data = Array.from({ length: 4 }, (_, i) => randomBytes(30 + i));
      const records = data.map((p, i) => v1Record(1 + i, p));
      await writeFile(segmentPath(dir, 7), Buffer.concat(records));
      await writeCheckpoint(dir, { segment: 7, offset: records[0].length });
      const { records: replayed, report } = await replayAll(dir);
      assert.deepEqual(replayed.map((r) => r.payload), data.slice(1));
      assert.deepEqual(replayed.map((r) => r.tag), [2, 3, 4]);
      assert.equal(replayed[0].record.arrivedAtMs, undefined);
      assert.equal(report.misplacedCheckpoint, undefined);
      assert.deepEqual(report.damaged, []);
    });
  });

  it('an arrival time given at append comes back on replay', async () => {
    await withDir(async (dir) => {
      const wal = await WriteAheadLog.open(dir, { segmentBytes: 1 << 20, isValidTag: anyTag });
      await wal.append(1, Buffer.from('a'), 1_765_000_000_123);
      await wal.append(1, Buffer.from('b'));
      await wal.close();
      const { records } = await replayAll(dir);
      assert.deepEqual(records.map((r) => r.record.arrivedAtMs), [1_765_000_000_123, undefined]);
    });
  });

  it('a checkpoint inside a record replays the segment from its start (v2 and v1)', async () => {
    await withDir(async (dir) => {
      const data = Array.from({ length: 6 }, (_, i) => randomBytes(30 + i));
      const path = await writeLog(dir, data);
      const segment = Number(path.slice(-24, -4));
      await writeCheckpoint(dir, { segment, offset: recordOffset(data, 3) + 5 });
      const { records, report } = await replayAll(dir);
      assert.deepEqual(records.map((r) => r.payload), data);
      assert.deepEqual(report.misplacedCheckpoint, { segment, offset: recordOffset(data, 3) + 5 });
    });
    await withDir(async (dir) => {
      const data = Array.from({ length: 3 }, (_, i) => randomBytes(30 + i));
      const records = data.map((p) => v1Record(2, p));
      await writeFile(segmentPath(dir, 3), Buffer.concat(records));
      await writeCheckpoint(dir, { segment: 3, offset: records[0].length + 4 });
      const { records: replayed, report } = await replayAll(dir);
      assert.deepEqual(replayed.map((r) => r.payload), data);
      assert.ok(report.misplacedCheckpoint !== undefined);
    });
  });

  it('the app replays the 19 good records of 20, counts the damaged one on /metrics and names it in the log', async () => {
    const dataDir = await tempDir();
    try {
      const traceId = randomBytes(16).toString('hex');
      const bodies = spanBodies(traceId, 20);
      const path = await writeLog(join(dataDir, 'wal'), bodies, WIRE_FORMAT.nativeJson);
      const buf = await readFile(path);
      const bad = recordOffset(bodies, 9);
      buf[bad + RECORD_HEADER_BYTES + 20] ^= 0x20;
      await writeFile(path, buf);
      const store = new MemoryStore();
      const warnings: string[] = [];
      const app = await buildApp({
        store,
        dataDir,
        logger: { level: 'warn', stream: { write: (line: string) => void warnings.push(line) } },
      });
      try {
        assert.equal(isWalTag(WIRE_FORMAT.nativeJson), true);
        assert.equal(app.linktrace.recovery.records, 19);
        assert.equal(store.spans.size, 19);
        assert.ok(![...store.spans.values()].some((s) => s.name === 'op-9'));
        const metrics = await app.inject({ method: 'GET', url: '/metrics' });
        assert.match(metrics.body, /^linktrace_wal_damaged_records_total 1$/m);
        assert.ok(warnings.some((w) => w.includes(`offset ${bad}`) && w.includes('damaged')), warnings.join('\n'));
      } finally {
        await app.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('replaying a segment from its start after a misplaced checkpoint leaves each span once in the embedded store', async () => {
    const dataDir = await tempDir();
    const store = await openEmbeddedStore({ dataDir });
    try {
      const traceId = randomBytes(16).toString('hex');
      const bodies = spanBodies(traceId, 20);
      const path = await writeLog(join(dataDir, 'wal'), bodies, WIRE_FORMAT.nativeJson);
      // The store already holds the first ten spans; the checkpoint was meant to point past them.
      await store.writeSpans(Array.from({ length: 10 }, (_, i) => span(traceId, i)));
      const segment = Number(path.slice(-24, -4));
      await writeCheckpoint(join(dataDir, 'wal'), { segment, offset: recordOffset(bodies, 10) - 3 });
      const app = await buildApp({ store, dataDir });
      try {
        assert.ok(app.linktrace.recovery.misplacedCheckpoint !== undefined);
        assert.equal(app.linktrace.recovery.records, 20);
        const spans = await store.getTrace(traceId);
        assert.equal(spans.length, 20);
        assert.equal(new Set(spans.map((s) => s.spanId)).size, 20);
        const summaries = await store.findTraces({ service: 'svc', startUs: 0 });
        assert.deepEqual(summaries.map((t) => [t.traceId, t.spanCount]), [[traceId, 20]]);
      } finally {
        await app.close();
      }
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
