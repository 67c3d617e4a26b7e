/**
 * Runs a role until SIGINT/SIGTERM (a second signal exits at once), as `runServe` runs serve: the
 * handlers are installed first, so a signal during start-up still stops the role cleanly.
 */
import { StoreWaitAborted } from '../cli/wait-for-store.js';
import { startChecker } from './checker-role.js';
import { startCollector } from './collector.js';
import { startIngester } from './ingester.js';
import { startQuery } from './query-role.js';
import type { RoleOptions } from './role-options.js';
import type { RoleStart, RunningRole } from './running-role.js';

export function startRole(options: RoleOptions, start: RoleStart = {}): Promise<RunningRole> {
  switch (options.role) {
    case 'collector':
      return startCollector(options, start);
    case 'ingester':
      return startIngester(options, start);
    case 'checker':
      return startChecker(options, start);
    case 'query':
      return startQuery(options, start);
  }
}

function banner(options: RoleOptions, running: RunningRole): string {
  const { serve } = options;
  const lines = [`linktrace ${options.role}: listening on ${running.url}   (health ${running.url}/healthz, metrics ${running.url}/metrics)`];
  if (options.nats !== undefined) lines.push(`  NATS       ${options.nats.servers.join(',')}   (stream LINKTRACE_SPANS, dead letters LINKTRACE_DEAD)`);
  if (options.role !== 'collector' && serve.store !== undefined) lines.push(`  store      ${serve.store.kind === 'embedded' ? serve.store.dataDir : serve.store.display}`);
  if (options.role === 'collector') {
    lines.push(`  ingest     POST ${running.url}/v1/traces  ${running.url}/api/v2/spans  ${running.url}/api/v1/spans`);
    lines.push(`  OTLP/gRPC  ${running.grpcAddress === undefined ? 'off' : `http://${running.grpcAddress}`}`);
  }
  if (options.role === 'checker') lines.push(`  partitions ${options.share!.index}/${options.share!.of} (p mod ${options.share!.of} = ${options.share!.index})   data ${serve.dataDir}`);
  if (options.role === 'query') lines.push(`  query API  ${running.url}/api/v2/ (Zipkin)  ${running.url}/api/v1/ (native)${serve.uiDir === false ? '' : `   web UI ${running.url}/`}`);
  return lines.join('\n');
}

export async function runRole(options: RoleOptions): Promise<void> {
  const started: { role?: RunningRole } = {};
  let pending: NodeJS.Signals | undefined;
  let signalled = false;
  const shutDown = (running: RunningRole, signal: NodeJS.Signals): void => {
    process.stdout.write(`linktrace ${options.role}: ${signal}: shutting down\n`);
    running.close().then(
      () => {
        process.stdout.write(`linktrace ${options.role}: stopped\n`);
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`linktrace ${options.role}: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      process.stderr.write(`linktrace ${options.role}: ${signal} again, exiting (unacknowledged messages are redelivered)\n`);
      process.exit(130);
    }
    signalled = true;
    if (started.role === undefined) {
      pending = signal;
      starting.abort();
    } else shutDown(started.role, signal);
  };
  // Ends a wait for an unreachable store: the signal would otherwise wait for a start that may never come.
  const starting = new AbortController();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const fatal = (error: Error): void => {
    process.stderr.write(`linktrace ${options.role}: cannot run: ${error.message}\n`);
    const exit = (): never => process.exit(1);
    if (started.role === undefined) exit();
    else started.role.close().then(exit, exit);
  };
  let running: RunningRole;
  try {
    running = await startRole(options, { fatal, signal: starting.signal });
  } catch (error) {
    if (!(error instanceof StoreWaitAborted)) throw error;
    process.stdout.write(`linktrace ${options.role}: ${pending ?? 'SIGTERM'}: ${error.message}\nlinktrace ${options.role}: stopped\n`);
    process.exit(0);
  }
  started.role = running;
  process.stdout.write(`${banner(options, running)}\n`);
  if (pending !== undefined) shutDown(running, pending);
}
