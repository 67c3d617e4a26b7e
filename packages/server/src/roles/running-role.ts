/** What starting a role returns (the CLI and tests use it). */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { SpanStore } from '@linktrace/storage';
import type { RoleHealth } from './role-app.js';
import type { RoleName } from './role-options.js';

export interface RunningRole {
  role: RoleName;
  app: FastifyInstance;
  /** `http://host:port` */
  url: string;
  /** The collector's OTLP/gRPC address (`host:port`), when on. */
  grpcAddress?: string;
  health(): Promise<RoleHealth>;
  /** Stops taking work, lets the batch under way finish, closes NATS and the store it opened. Safe to call twice. */
  close(): Promise<void>;
}

export interface RoleStart {
  /** Lines for the operator (stdout). */
  print?: (line: string) => void;
  warn?: (line: string) => void;
  /** ms since the epoch; default Date.now. */
  clock?: () => number;
  /**
   * A store already open (tests: one embedded store shared by roles in one process, since an
   * embedded store belongs to one process); the role then leaves it open on close.
   */
  store?: SpanStore;
  /** NATS cannot be used as configured (the stream's partitions differ): the role stops trying; the CLI exits 1. */
  fatal?: (error: Error) => void;
  /** Aborted while the store is still being waited for: the start gives up (StoreWaitAborted). */
  signal?: AbortSignal;
}

export function urlOf(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** Runs `steps` in order, each even if one before failed; throws the first failure. */
export async function closeAll(steps: readonly (() => Promise<unknown> | undefined)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}
