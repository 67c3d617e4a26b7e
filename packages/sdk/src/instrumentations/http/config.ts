import type { ClientRequest, IncomingMessage } from 'node:http';

export interface HttpInstrumentationConfig {
  /** Trace incoming requests (node:http and node:https servers). Default true. */
  server?: boolean;
  /** Trace outgoing requests (`http.request`, `http.get`, https too). Default true. */
  client?: boolean;
  /** Incoming requests for which this returns true are not traced (health checks, metrics scrapes). */
  ignoreIncoming?: (request: IncomingMessage) => boolean;
  /** Outgoing requests for which this returns true are not traced; headers are not injected either. */
  ignoreOutgoing?: (request: ClientRequest) => boolean;
}

/** Calls a user predicate; one that throws counts as "no" (tracing must not break the request). */
export function safePredicate<T>(predicate: ((value: T) => boolean) | undefined, value: T): boolean {
  if (predicate === undefined) return false;
  try {
    return predicate(value) === true;
  } catch {
    return false;
  }
}
