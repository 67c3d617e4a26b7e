import type { Attributes } from '@linktrace/model';
import { isTracingSuppressed } from '../../context/suppress.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { Instrumentation, InstrumentationContext } from '../core/instrumentation.js';
import { unwrap, wrap } from '../core/shim.js';
import { requireMajor } from '../core/version-range.js';
import { formatValues, recordDbError, startDbSpan } from '../db-common/db-span.js';

/**
 * ioredis: one client span per command (`Redis#sendCommand`), and one span per pipeline or
 * `multi()` exec carrying the command count (its commands get no span of their own). The command
 * text keeps the command name and the key names; every other argument becomes `?` unless values
 * are captured. Commands queued while connecting are traced from the call, in the caller's context.
 *
 * Recent ioredis (6.0.0 here) also publishes `ioredis:command` tracing channels, but only for commands that reach
 * the socket: one queued before the connection is ready is published later, from the connection's
 * context, and one that fails in the offline queue (connection refused) is never published. Hence
 * the patch.
 */
export interface IoredisInstrumentationConfig {
  /** Record `db.query.parameters` for this library even when `captureValues` is off globally. */
  captureValues?: boolean;
}

type Fn = (this: unknown, ...args: unknown[]) => unknown;
interface IoredisModule {
  prototype?: { sendCommand?: Fn };
  Pipeline?: { prototype?: { exec?: Fn } };
}
interface CommandLike {
  name?: unknown;
  args?: unknown;
  promise?: unknown;
  getKeys?: unknown;
  resolve?: unknown;
  reject?: unknown;
}
interface RedisLike {
  status?: unknown;
  options?: { host?: unknown; port?: unknown; path?: unknown; db?: unknown };
  condition?: { select?: unknown };
}
interface PipelineLike {
  redis?: unknown;
  promise?: unknown;
  resolve?: unknown;
  reject?: unknown;
  _queue?: unknown;
  _transactions?: unknown;
}

const TRACED = Symbol('linktrace.ioredis.traced');
const MAX_TEXT_LENGTH = 2048;
const MAX_ARG_LENGTH = 128;
/** Sent by ioredis itself while a connection gets ready (status `connect`): not the application's. */
const HANDSHAKE_COMMANDS = new Set(['auth', 'hello', 'select', 'info', 'client', 'readonly', 'cluster']);

export function ioredisInstrumentation(config: IoredisInstrumentationConfig = {}): Instrumentation {
  return {
    name: 'ioredis',
    targets: [
      {
        package: 'ioredis',
        patch(exports, ctx, loaded) {
          requireMajor('ioredis', loaded.version, 4, 6);
          const redis = exports as IoredisModule;
          const proto = redis.prototype;
          if (typeof proto?.sendCommand !== 'function') throw new Error('Redis.prototype.sendCommand is not a function');
          const capture = (): boolean => config.captureValues ?? ctx.options.captureValues;
          const pipelineProto = redis.Pipeline?.prototype;
          const pipelines = typeof pipelineProto?.exec === 'function' && wrap(pipelineProto, 'exec', (original) => pipelineExec(original as Fn, ctx, capture));
          wrap(proto, 'sendCommand', (original) => sendCommand(original as Fn, ctx, capture, pipelines));
        },
        unpatch(exports) {
          const redis = exports as IoredisModule;
          if (redis.prototype) unwrap(redis.prototype, 'sendCommand');
          if (redis.Pipeline?.prototype) unwrap(redis.Pipeline.prototype, 'exec');
        },
      },
    ],
  };
}

function sendCommand(original: Fn, ctx: InstrumentationContext, capture: () => boolean, pipelines: boolean): Fn {
  return function (this: unknown, ...args: unknown[]): unknown {
    const command = args[0] as (CommandLike & { [TRACED]?: true }) | undefined;
    const stream = args[1] as { isPipeline?: unknown } | undefined;
    if (
      command === null || typeof command !== 'object' || command[TRACED] === true ||
      (pipelines && stream !== undefined && stream !== null && stream.isPipeline === true) ||
      typeof command.name !== 'string' || !isSettleable(command) || isTracingSuppressed()
    ) {
      return original.apply(this, args);
    }
    const client = this as RedisLike;
    if (client.status === 'connect' && HANDSHAKE_COMMANDS.has(command.name)) return original.apply(this, args);
    let span: SpanHandle | undefined;
    try {
      const name = command.name.toUpperCase();
      const attributes: Attributes = { 'db.system.name': 'redis', 'db.operation.name': name, 'db.query.text': commandText(command) };
      if (capture()) {
        const values = formatValues(command.args);
        if (values !== undefined) attributes['db.query.parameters'] = values;
      }
      addPeer(attributes, client);
      span = startDbSpan(ctx, name, attributes);
    } catch {
      span = undefined;
    }
    if (span !== undefined) {
      // Marked so that a resend (offline queue flush, reconnect) is not traced twice.
      Object.defineProperty(command, TRACED, { value: true, configurable: true });
      endWhenSettled(span, command);
    }
    return original.apply(this, args);
  };
}

function pipelineExec(original: Fn, ctx: InstrumentationContext, capture: () => boolean): Fn {
  return function (this: unknown, ...args: unknown[]): unknown {
    const pipeline = this as PipelineLike & { [TRACED]?: true };
    // exec runs again on retries and through multi()'s own exec: one span per pipeline.
    if (pipeline === null || typeof pipeline !== 'object' || pipeline[TRACED] === true || isTracingSuppressed() || !isSettleable(pipeline)) {
      return original.apply(this, args);
    }
    let span: SpanHandle | undefined;
    try {
      const transaction = typeof pipeline._transactions === 'number' && pipeline._transactions > 0;
      // A transaction's MULTI (and EXEC, queued later) frame the user's commands: not counted.
      const queue = (Array.isArray(pipeline._queue) ? (pipeline._queue as CommandLike[]) : []).filter(
        (command) => !transaction || (command.name !== 'multi' && command.name !== 'exec'),
      );
      const name = transaction ? 'MULTI' : 'PIPELINE';
      let text = '';
      for (const command of queue) {
        if (text.length > MAX_TEXT_LENGTH) break;
        text += (text === '' ? '' : '\n') + commandText(command);
      }
      const attributes: Attributes = {
        'db.system.name': 'redis',
        'db.operation.name': name,
        'db.operation.batch.size': queue.length,
        'db.query.text': text.length > MAX_TEXT_LENGTH ? `${text.slice(0, MAX_TEXT_LENGTH - 1)}…` : text,
      };
      if (capture()) {
        const values = formatValues(queue.map((command) => (Array.isArray(command.args) ? `${String(command.name)} ${formatValues(command.args)}` : String(command.name))));
        if (values !== undefined) attributes['db.query.parameters'] = values;
      }
      addPeer(attributes, pipeline.redis as RedisLike);
      span = startDbSpan(ctx, name, attributes);
    } catch {
      span = undefined;
    }
    if (span !== undefined) {
      Object.defineProperty(pipeline, TRACED, { value: true, configurable: true });
      endWhenSettled(span, pipeline, pipelineError);
    }
    return original.apply(this, args);
  };
}

/** A pipeline resolves with `[error, result]` pairs: the first failed command fails the span. */
function pipelineError(result: unknown): unknown {
  if (!Array.isArray(result)) return undefined;
  for (const entry of result as unknown[]) {
    if (Array.isArray(entry) && entry[0] !== null && entry[0] !== undefined) return entry[0];
  }
  return undefined;
}

/**
 * Ends the span when ioredis settles the command or pipeline, by wrapping the `resolve`/`reject`
 * functions it keeps on the instance. No handler is attached to its promise: one would mark it
 * handled, and a rejection the application never handles would no longer raise `unhandledRejection`.
 */
function endWhenSettled(span: SpanHandle, settleable: Settleable, errorOf?: (result: unknown) => unknown): void {
  const resolve = settleable.resolve;
  const reject = settleable.reject;
  let ended = false;
  const end = (error: unknown, result: unknown): void => {
    if (ended) return;
    ended = true;
    try {
      const failure = error ?? errorOf?.(result);
      if (failure !== undefined) recordRedisError(span, failure);
      span.end();
    } catch {
      // Recording must never change what the application sees.
    }
  };
  settleable.resolve = function linktraceResolve(this: unknown, ...args: unknown[]): unknown {
    // ioredis converts the reply inside resolve and rejects when that fails: ours then ran first.
    const returned = resolve.apply(this, args);
    end(undefined, args[0]);
    return returned;
  };
  settleable.reject = function linktraceReject(this: unknown, ...args: unknown[]): unknown {
    end(args[0] ?? new Error('rejected'), undefined);
    return reject.apply(this, args);
  };
}

function recordRedisError(span: SpanHandle, error: unknown): void {
  recordDbError(span, error);
  // Redis replies carry their kind as the first word (`ERR`, `WRONGTYPE`, `NOSCRIPT`).
  if (error instanceof Error && error.name === 'ReplyError') {
    const kind = /^[A-Z]+/.exec(error.message)?.[0];
    if (kind !== undefined) span.setAttribute('db.response.status_code', kind);
  }
}

/** `SET user:42 ?`: the command, its key names kept, every other argument replaced. */
export function commandText(command: CommandLike): string {
  const name = typeof command.name === 'string' ? command.name.toUpperCase() : '?';
  const args = Array.isArray(command.args) ? (command.args as unknown[]) : [];
  let keys: unknown[] = [];
  try {
    if (typeof command.getKeys === 'function') keys = (command.getKeys as () => unknown[])();
  } catch {
    keys = [];
  }
  let text = name;
  for (const arg of args) {
    if (text.length > MAX_TEXT_LENGTH) break;
    const isKey = keys.some((key) => key === arg || (Buffer.isBuffer(key) && Buffer.isBuffer(arg) && key.equals(arg)));
    text += ` ${isKey ? keyText(arg) : '?'}`;
  }
  return text.length > MAX_TEXT_LENGTH ? `${text.slice(0, MAX_TEXT_LENGTH - 1)}…` : text;
}

function keyText(key: unknown): string {
  if (typeof key === 'string') return key.length > MAX_ARG_LENGTH ? `${key.slice(0, MAX_ARG_LENGTH)}…` : key;
  if (Buffer.isBuffer(key)) return `<${key.length} bytes>`;
  return String(key);
}

function addPeer(attributes: Attributes, client: RedisLike | undefined): void {
  const options = client?.options;
  if (options === undefined || options === null) return;
  if (typeof options.path === 'string' && options.path !== '') {
    attributes['server.address'] = options.path;
  } else {
    attributes['server.address'] = typeof options.host === 'string' && options.host !== '' ? options.host : 'localhost';
    attributes['server.port'] = typeof options.port === 'number' ? options.port : Number(options.port ?? 6379) || 6379;
  }
  const db = client?.condition?.select ?? options.db ?? 0;
  if (typeof db === 'number' || typeof db === 'string') attributes['db.namespace'] = String(db);
}

interface Settleable {
  resolve: Fn;
  reject: Fn;
}

/** A command or pipeline of the expected shape: a promise and the functions that settle it. */
function isSettleable<T extends { promise?: unknown; resolve?: unknown; reject?: unknown }>(value: T): value is T & Settleable {
  const promise = value.promise;
  return promise !== null && typeof promise === 'object' && typeof (promise as { then?: unknown }).then === 'function' &&
    typeof value.resolve === 'function' && typeof value.reject === 'function';
}
