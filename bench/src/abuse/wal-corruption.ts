/**
 * A corrupt log record (issue 11, item 6): `records` acknowledged requests, the server killed, the
 * checkpoint removed (so that start-up replays the whole segment, as after a crash before the store
 * confirmed anything), one byte flipped in the middle of the segment, and a restart. Reads what the
 * server says it replayed and how many records it skipped as damaged; the target is N - 1 replayed.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../ingest-server.js';
import { NATIVE_JSON, nativeBatch } from './native-batch.js';

export interface WalCorruptionOptions {
  /** A fresh data directory. */
  dataDir: string;
  records: number;
  serveArgs?: readonly string[];
}

export interface WalCorruptionResult {
  records: number;
  /** Offset of the flipped byte in the segment, and the segment's size. */
  flippedOffset: number;
  segmentBytes: number;
  replayedRecords: number;
  replayedSpans: number;
  damagedRecords: number;
}

const RECOVERED_RE = /recovered (\d+) spans from (\d+) write-ahead log records/;
const DAMAGED_RE = /skipped (\d+) damaged write-ahead log records/;
const SPANS_PER_RECORD = 5;

async function kill(server: ServerProcess): Promise<void> {
  process.kill(server.pid, 'SIGKILL');
  await server.exited;
}

export async function measureWalCorruption(options: WalCorruptionOptions): Promise<WalCorruptionResult> {
  const args = ['--no-ui', ...(options.serveArgs ?? [])];
  const first = await startServerProcess({ dataDir: options.dataDir, args });
  try {
    for (let seq = 0; seq < options.records; seq++) {
      const res = await fetch(`${first.url}/api/v1/spans`, { method: 'POST', headers: NATIVE_JSON, body: nativeBatch(1, seq, SPANS_PER_RECORD) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`record ${seq} was not acknowledged: ${res.status}`);
    }
  } finally {
    await kill(first);
  }
  const walDir = join(options.dataDir, 'wal');
  const segments = readdirSync(walDir).filter((n) => n.endsWith('.wal')).sort();
  const withRecords = segments.map((name) => ({ name, bytes: readFileSync(join(walDir, name)) })).filter((s) => s.bytes.length > 0);
  if (withRecords.length !== 1) throw new Error(`expected the records in one segment, found ${withRecords.length}`);
  const segment = withRecords[0]!;
  const flippedOffset = segment.bytes.length >> 1;
  segment.bytes[flippedOffset]! ^= 0xff;
  writeFileSync(join(walDir, segment.name), segment.bytes);
  rmSync(join(walDir, 'checkpoint.json'), { force: true });

  let replayedRecords = 0;
  let replayedSpans = 0;
  let damagedRecords = 0;
  const onLine = (line: string): void => {
    const r = RECOVERED_RE.exec(line);
    if (r !== null) {
      replayedSpans = Number(r[1]);
      replayedRecords = Number(r[2]);
    }
    const d = DAMAGED_RE.exec(line);
    if (d !== null) damagedRecords = Number(d[1]);
  };
  const second = await startServerProcess({ dataDir: options.dataDir, args, onLine });
  // The warnings follow the listening banner in the same turn; give the relay a moment.
  await new Promise((r) => setTimeout(r, 500));
  await second.stop(60_000);
  return { records: options.records, flippedOffset, segmentBytes: segment.bytes.length, replayedRecords, replayedSpans, damagedRecords };
}
