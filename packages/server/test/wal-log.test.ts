import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { WriteAheadLog } from '../src/wal/write-ahead-log.js';
import { crc32, crc32Js } from '../src/wal/crc32.js';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from '../src/wal/wal-record.js';
import { listSegments, segmentPath } from '../src/wal/segment-files.js';
import { tempDir } from './ingest-helpers.js';

const anyTag = (tag: number): boolean => tag >= 1 && tag <= 4;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir('linktrace-wal-');
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function open(dir: string, segmentBytes = 1 << 20, onFlush?: (records: number) => void): Promise<WriteAheadLog> {
  return WriteAheadLog.open(dir, { segmentBytes, isValidTag: anyTag, onFlush });
}

async function replayAll(dir: string): Promise<{ records: { tag: number; payload: Buffer }[]; torn: number; wal: WriteAheadLog }> {
  const wal = await open(dir);
  const records: { tag: number; payload: Buffer }[] = [];
  const report = await wal.replay((tag, payload) => {
    records.push({ tag, payload: Buffer.from(payload) });
  });
  return { records, torn: report.tornBytes, wal };
}

function payloads(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => randomBytes(20 + (i % 50)));
}

describe('write-ahead log', () => {
  it('the portable CRC-32 agrees with zlib on random data and known vectors', () => {
    assert.equal(crc32Js(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32Js(Buffer.alloc(0)), 0);
    const zcrc = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
    for (let i = 0; i < 50; i++) {
      const data = randomBytes(i * 37);
      const split = Math.floor(data.length / 3);
      const expected = zcrc !== undefined ? zcrc(data) : crc32Js(data);
      assert.equal(crc32Js(data), expected);
      assert.equal(crc32Js(data.subarray(split), crc32Js(data.subarray(0, split))), expected, 'continues from a previous value');
      assert.equal(crc32(data), expected);
    }
  });

  it('concurrent appends share fsyncs (group commit) and replay in order after reopening', async () => {
    await withDir(async (dir) => {
      const flushes: number[] = [];
      const wal = await open(dir, 1 << 20, (records) => flushes.push(records));
      const data = payloads(200);
      await Promise.all(data.map((p, i) => wal.append(1 + (i % 4), p)));
      const stats = wal.stats();
      assert.equal(stats.records, 200);
      assert.equal(stats.unconfirmed, 200);
      // All 200 appends arrive in one tick: the first starts a write+fsync, the other 199 arrive while it
      // is under way and share the next one. Deterministic (no timing): one fsync per append would be 200.
      assert.equal(stats.fsyncs, flushes.length);
      assert.ok(stats.fsyncs <= 2, `200 concurrent appends took ${stats.fsyncs} fsyncs (flushes of ${flushes.join(', ')})`);
      assert.ok(Math.max(...flushes) >= 199, `one fsync served the appends that arrived during the first: ${flushes.join(', ')}`);
      assert.equal(flushes.reduce((a, b) => a + b, 0), 200);
      await wal.close();
      await assert.rejects(wal.append(1, Buffer.from('late')), /closed/);

      const { records, torn, wal: again } = await replayAll(dir);
      assert.equal(torn, 0);
      assert.equal(records.length, 200);
      records.forEach((r, i) => {
        assert.equal(r.tag, 1 + (i % 4));
        assert.deepEqual(r.payload, data[i]);
      });
      await again.close();
      // Replayed segments are deleted; what is left is the fresh (empty) segment of the reopened log.
      assert.equal((await listSegments(dir)).length, 1);
      assert.equal((await replayAll(dir)).records.length, 0);
    });
  });

  it('a torn last record (crash mid-write) is dropped, every whole record is kept', async () => {
    await withDir(async (dir) => {
      const wal = await open(dir);
      const data = payloads(5);
      for (const p of data) await wal.append(2, p);
      await wal.close();
      const [segment] = await listSegments(dir);
      const path = segmentPath(dir, segment);
      const size = (await readFile(path)).length;
      await truncate(path, size - 3);
      const { records, torn, wal: again } = await replayAll(dir);
      await again.close();
      assert.equal(records.length, 4);
      assert.deepEqual(records.map((r) => r.payload), data.slice(0, 4));
      assert.equal(torn, RECORD_HEADER_BYTES + data[4].length - 3);
    });
  });

  it('a header-only tail and zeroed bytes end the log at the last good record; a flipped bit costs only its record', async () => {
    for (const damage of ['header', 'zeros', 'bitflip'] as const) {
      await withDir(async (dir) => {
        const wal = await open(dir);
        const data = payloads(6);
        for (const p of data) await wal.append(3, p);
        await wal.close();
        const [segment] = await listSegments(dir);
        const path = segmentPath(dir, segment);
        let keep = 6;
        if (damage === 'header') await appendFile(path, Buffer.from([0xff, 0, 0, 0, 1, 2]));
        if (damage === 'zeros') await appendFile(path, Buffer.alloc(4096));
        if (damage === 'bitflip') {
          const buf = await readFile(path);
          let offset = SEGMENT_HEADER_BYTES;
          for (let i = 0; i < 3; i++) offset += RECORD_HEADER_BYTES + data[i].length;
          buf[offset + RECORD_HEADER_BYTES + 5] ^= 0x10; // inside record 3's payload
          await writeFile(path, buf);
          keep = 5;
        }
        const { records, torn, wal: again } = await replayAll(dir);
        await again.close();
        assert.equal(records.length, keep, damage);
        const expected = damage === 'bitflip' ? [...data.slice(0, 3), ...data.slice(4)] : data;
        assert.deepEqual(records.map((r) => r.payload), expected, damage);
        assert.equal(torn > 0, damage !== 'bitflip', damage);
      });
    }
  });

  it('confirmed records are not replayed (checkpoint), unconfirmed ones are', async () => {
    await withDir(async (dir) => {
      const wal = await open(dir);
      const data = payloads(10);
      await Promise.all(data.map((p) => wal.append(1, p)));
      wal.confirm(6);
      assert.equal(wal.stats().unconfirmed, 4);
      assert.throws(() => wal.confirm(5), /past the 4 unconfirmed/);
      await wal.close();
      const { records, wal: again } = await replayAll(dir);
      await again.close();
      assert.deepEqual(records.map((r) => r.payload), data.slice(6));
    });
  });

  it('rotates segments at the size bound and deletes them once every record is confirmed', async () => {
    await withDir(async (dir) => {
      const wal = await open(dir, 256);
      const data = payloads(40);
      for (const p of data) await wal.append(4, p);
      const before = await listSegments(dir);
      assert.ok(before.length >= 5, `${before.length} segments for ~2.5 KB at 256 bytes each`);
      assert.equal(wal.stats().segments, before.length);
      wal.confirm(20);
      await wal.close();
      const after = await listSegments(dir);
      assert.ok(after.length < before.length, 'confirmed segments were deleted');
      const { records, wal: again } = await replayAll(dir);
      assert.deepEqual(records.map((r) => r.payload), data.slice(20));
      await again.close();
      const names = await readdir(dir);
      assert.ok(names.includes('checkpoint.json'));
      assert.equal(names.filter((n) => n.endsWith('.wal')).length, 1);
    });
  });

  it('an unreadable checkpoint means replaying everything, not losing anything', async () => {
    await withDir(async (dir) => {
      const wal = await open(dir);
      const data = payloads(4);
      await Promise.all(data.map((p) => wal.append(1, p)));
      wal.confirm(4);
      await wal.close();
      await writeFile(join(dir, 'checkpoint.json'), '{"segment":');
      const { records, wal: again } = await replayAll(dir);
      await again.close();
      assert.equal(records.length, 4);
    });
  });
});
