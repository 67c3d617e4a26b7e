/**
 * Streams and consumers, created by whichever role comes first and found as they are by the rest
 * (idempotent; two roles racing to create one both end up using it). The partition count is part of
 * the stream: a new stream records it in its description, and a role whose `--partitions` differs
 * from an existing stream's refuses to start, since spans of one trace must always land on one
 * partition. An existing stream's limits are left as they are (an operator may have tuned them);
 * a role whose flags ask for other limits says so.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from 'nats';
import { DEAD_STREAM, DEAD_SUBJECT_PREFIX, INGESTER_CONSUMER, SPANS_STREAM, SPANS_SUBJECT_PREFIX } from './jetstream-names.js';
import { DEFAULT_PARTITIONS } from './partitions.js';
import type { NatsOptions } from './role-options.js';

/** The stream cannot be used as the flags ask (another partition count, not made by linktrace): retrying cannot help. */
export class LayoutError extends Error {
  override name = 'LayoutError';
}

export interface StreamLayout {
  partitions: number;
}

/** How long a consumer waits for an acknowledgement before delivering a message again. */
export const ACK_WAIT_MS = 60_000;
/** Messages handed to ingesters and not yet acknowledged, at most (JetStream stops delivering past it). */
export const INGESTER_MAX_ACK_PENDING = 4096;
/** Dead letters are kept this long (they wait for an operator). */
const DEAD_MAX_AGE_MS = 7 * 86_400_000;
const DEAD_MAX_BYTES = 256 * 1024 * 1024;
/** A publish repeated with the same message id within this window is stored once. */
const DUPLICATE_WINDOW_MS = 120_000;

const PARTITIONS_NOTE = /partitions=(\d+)/;

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /not found/i.test(error.message);
}

function isInUse(error: unknown): boolean {
  return error instanceof Error && /already in use|already exists/i.test(error.message);
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Adds the stream unless it exists; either way returns what the server has. */
async function addOrGet(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<{ info: StreamInfo; created: boolean }> {
  const existing = await streamInfo(jsm, config.name);
  if (existing !== undefined) return { info: existing, created: false };
  try {
    return { info: await jsm.streams.add(config), created: true };
  } catch (error) {
    // NATS's own words ("replicas > 1 not supported in non-clustered mode") do not name the flag.
    if (error instanceof Error && /replicas > 1 not supported/i.test(error.message)) {
      throw new Error(`${error.message}: --replicas ${config.num_replicas ?? ''} needs a NATS cluster; use --replicas 1 with a single nats-server`);
    }
    if (!isInUse(error)) throw error;
    // Another role created it meanwhile.
    return { info: await jsm.streams.info(config.name), created: false };
  }
}

export async function ensureStreams(jsm: JetStreamManager, nats: NatsOptions, warn: (line: string) => void): Promise<StreamLayout> {
  const partitions = nats.partitions ?? DEFAULT_PARTITIONS;
  const { info, created } = await addOrGet(jsm, {
    name: SPANS_STREAM,
    description: `Linktrace spans by trace-id partition; partitions=${partitions}`,
    subjects: [`${SPANS_SUBJECT_PREFIX}.*`],
    // A message stays until every consumer interested in it (the ingesters', its partition's checker's)
    // acknowledged it: the stream holds the work not done yet, so its byte limit is backpressure.
    retention: RetentionPolicy.Interest,
    storage: StorageType.File,
    // Full: publishes are refused (collectors answer 429) rather than old, unstored spans dropped.
    discard: DiscardPolicy.New,
    max_bytes: nats.streamMaxBytes,
    max_age: nanos(nats.streamMaxAgeMs),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    num_replicas: nats.replicas,
  });
  const noted = PARTITIONS_NOTE.exec(info.config.description ?? '');
  if (noted === null) throw new LayoutError(`the stream ${SPANS_STREAM} exists but does not say its partitions (description "${info.config.description ?? ''}"); it was not made by linktrace`);
  const existing = Number(noted[1]);
  if (nats.partitions !== undefined && nats.partitions !== existing) {
    throw new LayoutError(`--partitions ${nats.partitions}: the stream ${SPANS_STREAM} has ${existing} partitions; every role must use the stream's (drop the flag, or delete the stream while it is empty)`);
  }
  if (
    !created &&
    (info.config.max_bytes !== nats.streamMaxBytes ||
      info.config.max_age !== nanos(nats.streamMaxAgeMs) ||
      info.config.retention !== RetentionPolicy.Interest ||
      info.config.num_replicas !== nats.replicas)
  ) {
    warn(
      `linktrace: the stream ${SPANS_STREAM} keeps its own settings (retention ${info.config.retention}, max_bytes ${info.config.max_bytes}, max_age ${info.config.max_age / 1e9}s, replicas ${info.config.num_replicas}), not the flags'`,
    );
  }
  // Before anything is published: with interest retention a message no consumer wants is not kept.
  await ensureConsumer(jsm, INGESTER_CONSUMER, `${SPANS_SUBJECT_PREFIX}.*`, INGESTER_MAX_ACK_PENDING);
  await addOrGet(jsm, {
    name: DEAD_STREAM,
    description: 'Linktrace messages no role could decode, parked for an operator',
    subjects: [`${DEAD_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_bytes: DEAD_MAX_BYTES,
    max_age: nanos(DEAD_MAX_AGE_MS),
    num_replicas: nats.replicas,
  });
  return { partitions: existing };
}

/** A durable pull consumer of LINKTRACE_SPANS, created unless it exists. */
export async function ensureConsumer(jsm: JetStreamManager, durable: string, filterSubject: string, maxAckPending: number): Promise<void> {
  try {
    await jsm.consumers.info(SPANS_STREAM, durable);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    filter_subject: filterSubject,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ACK_WAIT_MS),
    // Every message the stream still holds: a new consumer group starts from the oldest.
    deliver_policy: DeliverPolicy.All,
    // Redelivered until acknowledged: a message is never dropped for being redelivered often (undecodable ones are parked instead).
    max_deliver: -1,
    max_ack_pending: maxAckPending,
  };
  try {
    await jsm.consumers.add(SPANS_STREAM, config);
  } catch (error) {
    if (!isInUse(error)) throw error;
  }
}
