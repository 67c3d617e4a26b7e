import type { Attributes } from '@linktrace/model';
import diagnosticsChannel from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Context } from '../../context/context.js';
import { activeContext, contextStorage, emitInContext } from '../../context/context-manager.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { Instrumentation, InstrumentationContext } from '../core/instrumentation.js';
import { unwrap, wrap } from '../core/shim.js';
import { requireMajor } from '../core/version-range.js';
import { formatValues, recordDbError, spanNameOf, startDbSpan } from '../db-common/db-span.js';
import { MYSQL_DIALECT, sanitizeSql, summarizeSql } from '../db-common/sanitize-sql.js';

/**
 * mysql2 (callback API and `mysql2/promise`) through the tracing channels it publishes
 * (`mysql2:query`, `mysql2:execute`, `mysql2:connect`, `mysql2:pool:connect`): nothing is patched.
 * The SDK's context store is bound to the channels' `asyncStart`, so callbacks, including the one
 * of a pool that waited for a free connection, run in the caller's context. A query without callback
 * is an event emitter ('result', 'end', `.stream()`) driven by the connection's socket: `query` and
 * `execute` are wrapped only to make its events run in the caller's context too.
 */
export interface Mysql2InstrumentationConfig {
  /** Record `db.query.parameters` for this library even when `captureValues` is off globally. */
  captureValues?: boolean;
}

interface StatementMessage {
  query?: unknown;
  values?: unknown;
  database?: unknown;
  serverAddress?: unknown;
  serverPort?: unknown;
  result?: unknown;
  error?: unknown;
}
interface ConnectMessage {
  serverAddress?: unknown;
  serverPort?: unknown;
  result?: unknown;
}

interface CallState {
  readonly span: SpanHandle | undefined;
  ended: boolean;
}

type Handlers = Parameters<ReturnType<typeof diagnosticsChannel.tracingChannel>['subscribe']>[0];

/** Servers seen to be MariaDB (from the handshake's version), by `address:port`; small and bounded. */
const MARIADB_SERVERS = new Set<string>();

/**
 * The context each call started in, by channel message, shared by every enabled copy of this
 * instrumentation: the store binding is one per channel, counted, so disabling one copy keeps
 * the others' callbacks in their callers' contexts.
 */
const callerContexts = new WeakMap<object, Context>();
const bindings = new Map<string, number>();

function rememberCaller(message: unknown): void {
  if (message !== null && typeof message === 'object') callerContexts.set(message, activeContext());
}

function bindCallerContext(name: string): void {
  const count = bindings.get(name) ?? 0;
  if (count === 0) {
    const storage = contextStorage();
    // While the library's callback runs, the store holds the caller's context.
    diagnosticsChannel.tracingChannel(name).asyncStart.bindStore(storage, (message: unknown) =>
      (message !== null && typeof message === 'object' ? callerContexts.get(message) : undefined) ?? storage.getStore(),
    );
  }
  bindings.set(name, count + 1);
}

function unbindCallerContext(name: string): void {
  const count = bindings.get(name) ?? 0;
  if (count <= 1) {
    bindings.delete(name);
    if (count === 1) diagnosticsChannel.tracingChannel(name).asyncStart.unbindStore(contextStorage());
  } else {
    bindings.set(name, count - 1);
  }
}

export function mysql2Instrumentation(config: Mysql2InstrumentationConfig = {}): Instrumentation {
  const states = new WeakMap<object, CallState>();
  const subscriptions: { name: string; channel: ReturnType<typeof diagnosticsChannel.tracingChannel>; handlers: Handlers; bound: boolean }[] = [];

  return {
    name: 'mysql2',
    targets: [
      {
        // Only checks: an old mysql2 publishes no channels and would silently not be traced.
        package: 'mysql2',
        patch(exports, _ctx, loaded) {
          requireMajor('mysql2', loaded.version, 3, 3);
          if (!existsSync(join(dirname(loaded.filename), 'lib', 'tracing.js'))) {
            throw new Error('this mysql2 version publishes no tracing channels (lib/tracing.js); upgrade mysql2 to be traced');
          }
          for (const proto of emitterPrototypes(exports)) {
            for (const name of STATEMENT_METHODS) wrap(proto, name, (original) => emittingInCallerContext(original));
          }
        },
        unpatch(exports) {
          for (const proto of emitterPrototypes(exports)) for (const name of STATEMENT_METHODS) unwrap(proto, name);
        },
      },
    ],
    enable(ctx) {
      const capture = (): boolean => config.captureValues ?? ctx.options.captureValues;
      const subscribe = (name: string, handlers: Handlers, bound: boolean): void => {
        const channel = diagnosticsChannel.tracingChannel(name);
        channel.subscribe(handlers);
        if (bound) bindCallerContext(name);
        subscriptions.push({ name, channel, handlers, bound });
      };
      subscribe('mysql2:query', statementHandlers(ctx, states, capture), true);
      subscribe('mysql2:execute', statementHandlers(ctx, states, capture), true);
      // A pool serves a waiting caller from another caller's release: its callback is bound too.
      subscribe('mysql2:pool:connect', { start: rememberCaller } as Handlers, true);
      const connectHandlers: Handlers = {
        asyncStart(message) {
          const m = message as ConnectMessage;
          const version = (m.result as { serverVersion?: unknown } | undefined)?.serverVersion;
          if (typeof version === 'string' && /mariadb/i.test(version) && MARIADB_SERVERS.size < 256) {
            MARIADB_SERVERS.add(`${String(m.serverAddress)}:${String(m.serverPort)}`);
          }
        },
      } as Handlers;
      subscribe('mysql2:connect', connectHandlers, false);
    },
    disable() {
      for (const { name, channel, handlers, bound } of subscriptions.splice(0)) {
        channel.unsubscribe(handlers);
        if (bound) unbindCallerContext(name);
      }
    },
  };
}

const STATEMENT_METHODS = ['query', 'execute'] as const;
type StatementMethod = (this: unknown, ...args: unknown[]) => unknown;
type WithStatements = Record<(typeof STATEMENT_METHODS)[number], StatementMethod>;

/** Where `query`/`execute` live: the connections' base class (pool connections included) and the pool. */
function emitterPrototypes(exports: unknown): WithStatements[] {
  const mod = exports as { Connection?: { prototype?: object }; Pool?: { prototype?: object } } | null;
  const protos: WithStatements[] = [];
  const connection = mod?.Connection?.prototype;
  if (connection !== undefined && connection !== null) {
    // `query` and `execute` sit on BaseConnection, the prototype of Connection's prototype.
    let proto: object | null = connection;
    while (proto !== null && !Object.prototype.hasOwnProperty.call(proto, 'query')) proto = Object.getPrototypeOf(proto) as object | null;
    if (proto !== null) protos.push(proto as WithStatements);
  }
  const pool = mod?.Pool?.prototype;
  if (pool !== undefined && pool !== null && Object.prototype.hasOwnProperty.call(pool, 'query')) protos.push(pool as WithStatements);
  return protos;
}

/** Calls `query`/`execute`; a command returned without a callback emits its events in the caller's context. */
function emittingInCallerContext(original: StatementMethod): StatementMethod {
  return function statement(this: unknown): unknown {
    const caller = activeContext();
    // eslint-disable-next-line prefer-rest-params -- no array per call: this runs for every statement
    const command = Reflect.apply(original, this, arguments) as { emit?: unknown; onResult?: unknown } | null | undefined;
    if (command !== null && typeof command === 'object' && typeof command.emit === 'function' && typeof command.onResult !== 'function') {
      emitInContext(command as { emit: StatementMethod }, caller);
    }
    return command;
  };
}

function statementHandlers(ctx: InstrumentationContext, states: WeakMap<object, CallState>, capture: () => boolean): Handlers {
  const finish = (message: unknown): void => {
    const state = message !== null && typeof message === 'object' ? states.get(message) : undefined;
    if (state === undefined || state.ended) return;
    state.ended = true;
    const span = state.span;
    if (span === undefined) return;
    const m = message as StatementMessage;
    if (m.error !== undefined && m.error !== null) recordDbError(span, m.error);
    else setRowCounts(span, m.result);
    span.end();
  };
  return {
    start(message) {
      if (message === null || typeof message !== 'object') return;
      rememberCaller(message);
      let span: SpanHandle | undefined;
      try {
        span = startStatementSpan(ctx, message as StatementMessage, capture());
      } catch {
        span = undefined;
      }
      states.set(message, { span, ended: false });
    },
    end(message) {
      // A synchronous throw has no async phase: end here. Otherwise the async phase ends the span.
      if ((message as StatementMessage).error !== undefined) finish(message);
    },
    asyncStart: finish,
    asyncEnd: finish,
    error() {},
  };
}

function startStatementSpan(ctx: InstrumentationContext, message: StatementMessage, capture: boolean): SpanHandle | undefined {
  const text = typeof message.query === 'string' ? message.query : undefined;
  const summary = summarizeSql(text, MYSQL_DIALECT);
  const address = typeof message.serverAddress === 'string' ? message.serverAddress : undefined;
  const port = typeof message.serverPort === 'number' ? message.serverPort : typeof message.serverPort === 'string' ? Number(message.serverPort) : undefined;
  const system = MARIADB_SERVERS.has(`${String(message.serverAddress)}:${String(message.serverPort)}`) ? 'mariadb' : 'mysql';
  const attributes: Attributes = { 'db.system.name': system };
  if (text !== undefined) attributes['db.query.text'] = sanitizeSql(text, MYSQL_DIALECT);
  if (summary.operation !== undefined) attributes['db.operation.name'] = summary.operation;
  if (summary.collection !== undefined) attributes['db.collection.name'] = summary.collection;
  if (typeof message.database === 'string' && message.database !== '') attributes['db.namespace'] = message.database;
  if (address !== undefined) attributes['server.address'] = address;
  if (port !== undefined && Number.isInteger(port) && port > 0) attributes['server.port'] = port;
  if (capture) {
    const formatted = formatValues(message.values);
    if (formatted !== undefined) attributes['db.query.parameters'] = formatted;
  }
  return startDbSpan(ctx, spanNameOf(summary, system), attributes);
}

function setRowCounts(span: SpanHandle, result: unknown): void {
  if (Array.isArray(result)) {
    span.setAttribute('db.response.returned_rows', result.length);
  } else if (result !== null && typeof result === 'object') {
    const affected = (result as { affectedRows?: unknown }).affectedRows;
    if (typeof affected === 'number') span.setAttribute('db.response.affected_rows', affected);
  }
}
