/**
 * The block store's JS write cost per span in the write path's order: encode a block (spans →
 * columns), then build its Parquet file with zstd level 1, block after block, in process CPU time.
 * (measure-blocks.js builds each block uncompressed first, so that build pays the encode's garbage
 * collection and the zstd build after it looks cheaper than it is in the store.) Not a test; after
 * a build:
 *   node packages/storage/dist/test/measure-block-write.js [repo root whose build to measure] [spans=81920] [block=8192] [passes=3]
 * The root (default: this build's) lets one script measure another checkout's build back to back.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type * as ColumnsModule from '../src/blocks/block-columns.js';
import type * as ParquetFileModule from '../src/blocks/parquet-file.js';
import type * as AttributesModule from '../src/embedded/attribute-columns.js';
import type * as BagsModule from '../src/embedded/bag-registry.js';
import type * as EncoderModule from '../src/embedded/span-row-encoder.js';
import type * as SpansModule from './support/realistic-spans.js';

type Columns = typeof ColumnsModule;
type ParquetFile = typeof ParquetFileModule;
type Attributes = typeof AttributesModule;
type Bags = typeof BagsModule;
type Encoder = typeof EncoderModule;
type Spans = typeof SpansModule;

const root = process.argv[2] ?? join(fileURLToPath(import.meta.url), '../../../../..');
const count = Number(process.argv[3] ?? 81_920);
const blockSize = Number(process.argv[4] ?? 8192);
const passes = Number(process.argv[5] ?? 3);
const dist = join(root, 'packages/storage/dist');
const load = async <T>(path: string): Promise<T> => (await import(join(dist, path))) as T;

const { encodeBlock } = await load<Columns>('src/blocks/block-columns.js');
const { initZstd, parquetBytes } = await load<ParquetFile>('src/blocks/parquet-file.js');
const { AttributeColumns } = await load<Attributes>('src/embedded/attribute-columns.js');
const { BagRegistry, KeyRegistry } = await load<Bags>('src/embedded/bag-registry.js');
const { SpanRowEncoder } = await load<Encoder>('src/embedded/span-row-encoder.js');
const { realisticSpanStream } = await load<Spans>('test/support/realistic-spans.js');

await initZstd();
const spans = [...realisticSpanStream({ count })];
const columns = new AttributeColumns([]);
const encoder = new SpanRowEncoder(columns, { resources: new BagRegistry(), scopes: new BagRegistry(), restKeys: new KeyRegistry(), sideKeys: new KeyRegistry() });
const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
// Warm-up: one block not counted.
parquetBytes(encodeBlock(spans.slice(0, blockSize), encoder, () => columns.keys.length, 0, 0), 'zstd');
let encode = 0;
let build = 0;
let bytes = 0;
const t0 = cpu();
for (let pass = 0; pass < passes; pass++) {
  for (let i = 0, seq = 1; i < count; i += blockSize, seq++) {
    const part = spans.slice(i, i + blockSize);
    let t = cpu();
    const block = encodeBlock(part, encoder, () => columns.keys.length, Date.now() * 1000, seq);
    columns.takeNew();
    encode += cpu() - t;
    t = cpu();
    bytes += parquetBytes(block, 'zstd').byteLength;
    build += cpu() - t;
  }
}
const n = count * passes;
const per = (us: number): number => Number((us / n).toFixed(2));
console.log(JSON.stringify({ root, spans: count, block_spans: blockSize, passes, encode_us_per_span: per(encode), build_zstd1_us_per_span: per(build), total_us_per_span: per(cpu() - t0), bytes_per_span: Number((bytes / n).toFixed(1)) }));
