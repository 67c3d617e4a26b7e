/**
 * `linktrace collector`: serve's receivers (OTLP/HTTP, OTLP/gRPC, Zipkin, native; the same limits
 * and errors) in front of NATS JetStream instead of a write-ahead log and a store. A request is
 * answered 2xx only once JetStream acknowledged all of its spans (jetstream-intake.ts).
 */
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { DEFAULT_PIPELINE } from '../config.js';
import { startGrpcReceiver, type GrpcReceiver } from '../grpc/otlp-grpc-receiver.js';
import { tokenCheck } from '../http/token-check.js';
import { ByteBudget } from '../ingest/byte-budget.js';
import type { ReceiverContext } from '../ingest/receive.js';
import { RefusalLog } from '../ingest/refusal-log.js';
import { registerIngestRoutes } from '../routes/ingest-routes.js';
import { JetStreamIntake } from './jetstream-intake.js';
import { natsHealth } from './nats-health.js';
import { NatsLink } from './nats-link.js';
import { createRoleApp } from './role-app.js';
import type { RoleOptions } from './role-options.js';
import { closeAll, urlOf, type RoleStart, type RunningRole } from './running-role.js';

const SHUTDOWN_GRPC_MS = 10_000;

export async function startCollector(options: RoleOptions, start: RoleStart = {}): Promise<RunningRole> {
  const warn = start.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const clock = start.clock ?? Date.now;
  const { serve } = options;
  const link = new NatsLink({ role: 'collector', nats: options.nats!, warn, ...(start.fatal !== undefined && { fatal: start.fatal }) });
  // The gauge is read when /metrics is scraped, after `intake` exists.
  const role = createRoleApp('collector', serve, [natsHealth(link)], { backlogSpans: () => intake.pendingSpans });
  const intake = new JetStreamIntake({ link, metrics: role.roleMetrics, publishTimeoutMs: options.publishTimeoutMs, retryAfterSeconds: DEFAULT_PIPELINE.retryAfterSeconds, clock });
  const { app } = role;
  const ctx: ReceiverContext = {
    limits: serve.limits,
    pipeline: intake,
    metrics: role.metrics,
    refusals: new RefusalLog(warn),
    decompressBudget: new ByteBudget(serve.limits.maxDecompressingBytes),
    retryAfterSeconds: DEFAULT_PIPELINE.retryAfterSeconds,
    clock,
  };
  let grpc: GrpcReceiver | undefined;
  try {
    await registerIngestRoutes(app, ctx);
    await app.listen({ port: serve.port, host: serve.host });
    if (serve.grpcPort !== undefined && serve.grpcPort !== 0) {
      setLogVerbosity(logVerbosity.NONE);
      try {
        grpc = await startGrpcReceiver(ctx, { host: serve.host, port: serve.grpcPort, authorized: serve.token === undefined ? undefined : tokenCheck(serve.token), warn });
      } catch (error) {
        const message = (error as Error).message;
        if (serve.grpcPortDefault !== true || !/EADDRINUSE|address already in use|No address added/i.test(message)) throw new Error(`OTLP/gRPC on port ${serve.grpcPort}: ${message}`);
        warn(`linktrace collector: OTLP/gRPC receiver not started: port ${serve.grpcPort} is in use; pass --grpc-port <port> (0 turns it off)`);
      }
    }
  } catch (error) {
    await closeAll([() => app.close(), () => link.close()]);
    throw error;
  }
  const url = urlOf(app);
  const grpcAddress = grpc === undefined ? undefined : `${url.replace(/^http:\/\//, '').replace(/:\d+$/, '')}:${grpc.port}`;
  let closing: Promise<void> | undefined;
  return {
    role: 'collector',
    app,
    url,
    ...(grpcAddress !== undefined && { grpcAddress }),
    health: role.health,
    // gRPC first, then HTTP: requests under way get their JetStream answers before the link closes.
    close: () => (closing ??= closeAll([() => grpc?.close(SHUTDOWN_GRPC_MS), () => app.close(), () => link.close()])),
  };
}
