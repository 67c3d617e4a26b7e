import type { Attributes } from '@linktrace/model';
import { activeContext, bindContext, emitInContext, runWithContext } from '../../context/context-manager.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { Instrumentation, InstrumentationContext } from '../core/instrumentation.js';
import { unwrap, wrap } from '../core/shim.js';
import { requireMajor } from '../core/version-range.js';
import { formatValues, recordDbError, spanNameOf, startDbSpan } from '../db-common/db-span.js';
import { observeCall } from '../db-common/observe-call.js';
import { POSTGRES_DIALECT, sanitizeSql, summarizeSql } from '../db-common/sanitize-sql.js';

/**
 * node-postgres: one client span per `Client#query` (and per `Pool#query`, which owns the span of
 * the client query it dispatches, so a query that never gets a connection is traced too).
 * Callbacks run in the caller's context, also after waiting for a pooled connection.
 */
export interface PgInstrumentationConfig {
  /** Record `db.query.parameters` for this library even when `captureValues` is off globally. */
  captureValues?: boolean;
}

type QueryFn = (this: unknown, ...args: unknown[]) => unknown;
interface PgModule {
  Client?: { prototype: { query?: QueryFn } };
  Pool?: { prototype: { query?: QueryFn; connect?: QueryFn } };
}
interface ConnectionInfo {
  host?: unknown;
  port?: unknown;
  database?: unknown;
}
interface PgClientLike extends ConnectionInfo {
  connectionParameters?: ConnectionInfo;
}
interface PgPoolLike {
  options?: ConnectionInfo;
}
interface Submittable {
  submit: unknown;
  handleError?: unknown;
  handleReadyForQuery?: unknown;
  _result?: unknown;
  callback?: unknown;
}

/** The span a `Pool#query` started, handed to the one `Client#query` it dispatches. */
interface PoolQuery {
  readonly span: SpanHandle;
  claimed: boolean;
}
const POOL_QUERY = Symbol('linktrace.pg.poolQuery');

export function pgInstrumentation(config: PgInstrumentationConfig = {}): Instrumentation {
  return {
    name: 'pg',
    targets: [
      {
        package: 'pg',
        patch(exports, ctx, loaded) {
          requireMajor('pg', loaded.version, 7, 8);
          const pg = exports as PgModule;
          const clientProto = pg.Client?.prototype;
          if (typeof clientProto?.query !== 'function') throw new Error('pg.Client.prototype.query is not a function');
          const capture = (): boolean => config.captureValues ?? ctx.options.captureValues;
          wrap(clientProto, 'query', (original) => clientQuery(original as QueryFn, ctx, capture));
          const poolProto = pg.Pool?.prototype;
          if (poolProto !== undefined) {
            if (typeof poolProto.connect === 'function') wrap(poolProto, 'connect', (original) => poolConnect(original as QueryFn));
            if (typeof poolProto.query === 'function') wrap(poolProto, 'query', (original) => poolQuery(original as QueryFn, ctx, capture));
          }
        },
        unpatch(exports) {
          const pg = exports as PgModule;
          if (pg.Client?.prototype) unwrap(pg.Client.prototype, 'query');
          if (pg.Pool?.prototype) {
            unwrap(pg.Pool.prototype, 'query');
            unwrap(pg.Pool.prototype, 'connect');
          }
        },
      },
    ],
  };
}

function isSubmittable(value: unknown): value is Submittable {
  return value !== null && typeof value === 'object' && typeof (value as Submittable).submit === 'function';
}

function textOf(query: unknown): string | undefined {
  if (typeof query === 'string') return query;
  if (query !== null && typeof query === 'object') {
    const text = (query as { text?: unknown }).text;
    if (typeof text === 'string') return text;
  }
  return undefined;
}

function queryAttributes(query: unknown, values: unknown, capture: boolean): { name: string; attributes: Attributes } {
  const text = textOf(query);
  const summary = summarizeSql(text, POSTGRES_DIALECT);
  const attributes: Attributes = { 'db.system.name': 'postgresql' };
  if (text !== undefined) attributes['db.query.text'] = sanitizeSql(text, POSTGRES_DIALECT);
  if (summary.operation !== undefined) attributes['db.operation.name'] = summary.operation;
  if (summary.collection !== undefined) attributes['db.collection.name'] = summary.collection;
  if (query !== null && typeof query === 'object') {
    const name = (query as { name?: unknown }).name;
    if (typeof name === 'string' && name.length > 0) attributes['db.pg.statement_name'] = name.slice(0, 128);
  }
  if (capture) {
    const list = Array.isArray(values) ? values : query !== null && typeof query === 'object' ? (query as { values?: unknown }).values : undefined;
    const formatted = formatValues(list);
    if (formatted !== undefined) attributes['db.query.parameters'] = formatted;
  }
  return { name: spanNameOf(summary, 'postgresql'), attributes };
}

function setPeer(span: SpanHandle, info: ConnectionInfo | undefined): void {
  if (info === undefined || info === null) return;
  if (typeof info.database === 'string' && info.database !== '') span.setAttribute('db.namespace', info.database);
  if (typeof info.host === 'string' && info.host !== '') span.setAttribute('server.address', info.host);
  const port = typeof info.port === 'string' ? Number(info.port) : info.port;
  if (typeof port === 'number' && Number.isInteger(port) && port > 0) span.setAttribute('server.port', port);
}

function clientInfo(client: unknown): ConnectionInfo | undefined {
  if (client === null || typeof client !== 'object') return undefined;
  const c = client as PgClientLike;
  return c.connectionParameters ?? c;
}

function endWithResult(span: SpanHandle, error: unknown, result: unknown): void {
  if (error !== null && error !== undefined) {
    recordDbError(span, error);
  } else {
    const last = Array.isArray(result) ? (result[result.length - 1] as unknown) : result;
    if (last !== null && typeof last === 'object') {
      const { command, rowCount, rows } = last as { command?: unknown; rowCount?: unknown; rows?: unknown };
      // A SELECT's rowCount counts the rows returned even when they were streamed, not kept.
      if (command === 'SELECT' && typeof rowCount === 'number') span.setAttribute('db.response.returned_rows', rowCount);
      else if (Array.isArray(rows) && rows.length > 0) span.setAttribute('db.response.returned_rows', rows.length);
      if (typeof rowCount === 'number' && command !== 'SELECT') span.setAttribute('db.response.affected_rows', rowCount);
    }
  }
  span.end();
}

/** `query(textOrConfig, values?, callback?)`: the callback is the first function after the query. */
function callbackIndexOf(args: unknown[]): number {
  if (typeof args[1] === 'function') return 1;
  if (typeof args[2] === 'function') return 2;
  return -1;
}

function clientQuery(original: QueryFn, ctx: InstrumentationContext, capture: () => boolean): QueryFn {
  return function query(this: unknown, ...args: unknown[]): unknown {
    const config = args[0];
    if (config === null || config === undefined) return original.apply(this, args);
    const callerContext = activeContext();
    const pooled = callerContext.getValue(POOL_QUERY) as PoolQuery | undefined;
    if (pooled !== undefined && !pooled.claimed) {
      // Dispatched by Pool#query: its span covers this call; it only learns the real peer here.
      pooled.claimed = true;
      setPeer(pooled.span, clientInfo(this));
      return original.apply(this, args);
    }
    const { name, attributes } = queryAttributes(config, args[1], capture());
    const span = startDbSpan(ctx, name, attributes);
    if (span === undefined) return original.apply(this, args);
    setPeer(span, clientInfo(this));
    if (isSubmittable(config)) return submit(original, this, args, config, span, callerContext);
    let index = callbackIndexOf(args);
    if (index < 0 && typeof (config as { callback?: unknown }).callback === 'function') {
      // The callback rides in the config object: pass ours in its place (pg copies it over).
      const userCallback = (config as { callback: QueryFn }).callback;
      while (args.length < 2) args.push(undefined);
      args[2] = userCallback;
      index = 2;
    }
    const { result, observed } = observeCall(original, this, args, index, callerContext, (error, value) => endWithResult(span, error, value));
    if (!observed) span.end();
    return result;
  };
}

/**
 * A `Submittable` (a `Query`, a cursor, a query stream) reports its end through the client's calls
 * to `handleReadyForQuery`/`handleError`; those are observed on the instance, the object itself is
 * returned as it is.
 */
function submit(original: QueryFn, thisArg: unknown, args: unknown[], query: Submittable, span: SpanHandle, callerContext: ReturnType<typeof activeContext>): unknown {
  let ended = false;
  const finish = (error: unknown): void => {
    if (ended) return;
    ended = true;
    endWithResult(span, error, error === undefined ? query._result : undefined);
  };
  let hooked = false;
  if (typeof query.handleReadyForQuery === 'function') {
    hooked = wrap(query as { handleReadyForQuery: QueryFn }, 'handleReadyForQuery', (originalReady) => function (this: unknown, ...readyArgs: unknown[]) {
      finish(undefined);
      return originalReady.apply(this, readyArgs);
    }) || hooked;
  }
  if (typeof query.handleError === 'function') {
    hooked = wrap(query as { handleError: QueryFn }, 'handleError', (originalError) => function (this: unknown, ...errorArgs: unknown[]) {
      finish(errorArgs[0] ?? new Error('query failed'));
      return originalError.apply(this, errorArgs);
    }) || hooked;
  }
  // A Query without callback, a cursor, a query stream: their events ('row', 'end', 'data') are
  // emitted from the connection's socket, which belongs to whoever opened the connection.
  if (typeof (query as { emit?: unknown }).emit === 'function') emitInContext(query as unknown as { emit: QueryFn }, callerContext);
  if (query.callback === undefined || query.callback === null) {
    // The client will store this callback on the query: let it run in the caller's context.
    const index = callbackIndexOf(args);
    if (index >= 0) args[index] = bindContext(args[index] as QueryFn, callerContext);
  }
  let result: unknown;
  try {
    result = original.apply(thisArg, args);
  } catch (error) {
    finish(error);
    throw error;
  }
  if (!hooked) finish(undefined);
  return result;
}

function poolQuery(original: QueryFn, ctx: InstrumentationContext, capture: () => boolean): QueryFn {
  return function query(this: unknown, ...args: unknown[]): unknown {
    const config = args[0];
    // Submittables and misuse (`pool.query(fn)`) go through unchanged; Client#query traces them.
    if (config === null || config === undefined || typeof config === 'function' || isSubmittable(config)) return original.apply(this, args);
    const callerContext = activeContext();
    const { name, attributes } = queryAttributes(config, args[1], capture());
    const span = startDbSpan(ctx, name, attributes);
    if (span === undefined) return original.apply(this, args);
    setPeer(span, (this as PgPoolLike).options);
    const pooled: PoolQuery = { span, claimed: false };
    const inner = callerContext.withValue(POOL_QUERY, pooled);
    const { result, observed } = runWithContext(inner, () =>
      observeCall(original, this, args, callbackIndexOf(args), callerContext, (error, value) => endWithResult(span, error, value)),
    );
    if (!observed) span.end();
    return result;
  };
}

/** Binds the callback of `Pool#connect` to the caller: a queued request is served from another's release. */
function poolConnect(original: QueryFn): QueryFn {
  return function connect(this: unknown, ...args: unknown[]): unknown {
    if (typeof args[0] === 'function') args[0] = bindContext(args[0] as QueryFn);
    return original.apply(this, args);
  };
}
