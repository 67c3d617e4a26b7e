/**
 * Start-up recovery: the records a previous run appended but the store had not confirmed are decoded
 * (exactly as their receiver decoded them) and stored before the server takes new requests.
 */
import type { Span } from '@linktrace/model';
import { GZIP_FLAG, decodeBody, isWireFormat } from '../ingest/wire-format.js';
import { gunzipCapped } from '../ingest/decompress.js';
import type { ReplayReport, WriteAheadLog } from '../wal/write-ahead-log.js';
import { earliestArrivalUs } from './ingest-pipeline.js';

export interface RecoveryReport extends ReplayReport {
  spans: number;
  /** Records that could not be decoded any more (logged and skipped). */
  undecodable: number;
}

/** Decompression cap on replay: generous, so a lowered limit never loses acknowledged spans. */
const REPLAY_MAX_DECOMPRESSED = 1024 * 1024 * 1024;

export function isWalTag(tag: number): boolean {
  return isWireFormat(tag & ~GZIP_FLAG);
}

/**
 * Replays the log into `store`, `batchSpans` at a time. Each batch is marked as arrived when its
 * earliest record did (the record's arrival time, kept by the log), as the live pipeline marks its
 * writes (`earliestArrivalUs`): retention counts a crash-replayed span from when it came in, not
 * from the restart. Records without an arrival time (a log from an older version) take the store's clock.
 */
export async function recoverWal(
  wal: WriteAheadLog,
  store: (spans: Span[], arrivedUs: number | undefined) => Promise<void>,
  batchSpans: number,
  warn: (message: string) => void,
  /** Makes what `store` stored durable (a store that defers it, see IngestStore.whenDurable): before the replayed segments are deleted. */
  durable?: () => Promise<void>,
): Promise<RecoveryReport> {
  let batch: Span[] = [];
  let batchEarliestMs = Infinity;
  let spans = 0;
  let undecodable = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const b = batch;
    const arrivedUs = earliestArrivalUs(batchEarliestMs);
    batch = [];
    batchEarliestMs = Infinity;
    await store(b, arrivedUs);
  };
  const report = await wal.replay(async (tag, payload, record) => {
    const format = tag & ~GZIP_FLAG;
    if (!isWireFormat(format)) return;
    try {
      const bytes = (tag & GZIP_FLAG) !== 0 ? await gunzipCapped(payload, REPLAY_MAX_DECOMPRESSED) : payload;
      const decoded = decodeBody(format, bytes).spans;
      for (const span of decoded) batch.push(span);
      spans += decoded.length;
      if (decoded.length > 0 && record.arrivedAtMs !== undefined) batchEarliestMs = Math.min(batchEarliestMs, record.arrivedAtMs);
    } catch (error) {
      undecodable++;
      warn(`write-ahead log: a record could not be decoded and was skipped (${(error as Error).message})`);
      return;
    }
    if (batch.length >= batchSpans) await flush();
  }, async () => {
    await flush();
    await durable?.();
  });
  for (const d of report.damaged) {
    warn(`write-ahead log: segment ${d.segment} has a damaged record at offset ${d.offset} (${d.bytes} bytes failed their checksum); it was skipped, the records after it were replayed`);
  }
  const cp = report.misplacedCheckpoint;
  if (cp !== undefined) warn(`write-ahead log: the checkpoint (segment ${cp.segment}, offset ${cp.offset}) is not at a record boundary; that segment was replayed from its start`);
  return { ...report, spans, undecodable };
}
