import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { encodeBlock } from '../src/blocks/block-columns.js';
import { initZstd, parquetBytes } from '../src/blocks/parquet-file.js';
import { AttributeColumns } from '../src/embedded/attribute-columns.js';
import { BagRegistry, KeyRegistry } from '../src/embedded/bag-registry.js';
import { SpanRowEncoder } from '../src/embedded/span-row-encoder.js';
import { realisticSpanStream } from './support/realistic-spans.js';

describe('encodeBlock', () => {
  it('keeps durations as numbers, not a BigInt per span, and writes them as INT64', async () => {
    await initZstd();
    const spans = [...realisticSpanStream({ count: 500 })];
    // One span without a duration (a start record): NULL in the column and the file.
    const { durationUs: _, ...open } = spans[0]!;
    spans[0] = open as (typeof spans)[number];
    const columns = new AttributeColumns([]);
    const encoder = new SpanRowEncoder(columns, { resources: new BagRegistry(), scopes: new BagRegistry(), restKeys: new KeyRegistry(), sideKeys: new KeyRegistry() });
    const block = encodeBlock(spans, encoder, () => columns.keys.length, 0, 0);
    const durations = block.columnData.find((c) => c.name === 'duration_us')!.data as readonly unknown[];
    // The head holds these arrays for seconds: no heap object per value for the GC to trace.
    assert.ok(durations.every((d) => d === null || (typeof d === 'number' && Number.isInteger(d))));
    assert.equal(durations.filter((d) => d === null).length, 1);
    const bytes = parquetBytes(block, 'none');
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({ file, columns: ['sid', 'duration_us'] })) as { sid: bigint; duration_us: bigint | null }[];
    const want = new Map(spans.map((s) => [BigInt(`0x${s.spanId}`), s.durationUs === undefined ? null : BigInt(Math.floor(s.durationUs))]));
    assert.equal(rows.length, spans.length);
    for (const r of rows) assert.equal(r.duration_us, want.get(BigInt.asUintN(64, r.sid)));
  });
});
