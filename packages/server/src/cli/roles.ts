/**
 * The split roles as subcommands (DESIGN §8, docs/server.md#roles): `collector`, `ingester`,
 * `checker` and `query`. Each is a composition of serve's modules around NATS JetStream and a
 * shared store; the code lives in roles/, this file only declares the flags.
 */
import type { Command } from 'commander';
import { ConfigError } from '../config.js';
import { DEFAULT_TIMEOUTS } from '../http/timeouts.js';
import { parseRoleFlags, ROLE_DEFAULTS, ROLE_PORTS, type RoleFlags, type RoleName } from '../roles/role-options.js';
import { runRole } from '../roles/run-role.js';
import { addCheckerOptions, SERVE_DEFAULTS } from './serve.js';

const DESCRIPTIONS: Record<RoleName, string> = {
  collector: 'receive spans (OTLP, Zipkin, native) and publish them to NATS JetStream; answers 2xx only after JetStream acknowledged',
  ingester: 'store the spans of NATS JetStream; a message is acknowledged only once its spans are durable in the store',
  checker: 'run the chain checks on the partitions of NATS JetStream this checker owns; findings go to the store',
  query: 'answer the query API and serve the web UI from a store (stateless, no NATS)',
};

function common(command: Command, role: RoleName): Command {
  command
    .option('--port <port>', `port for ${role === 'collector' ? 'ingest, ' : role === 'query' ? 'the query API, the UI, ' : ''}/healthz and /metrics (0 picks a free one)`, ROLE_PORTS[role])
    .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)', SERVE_DEFAULTS.host)
    .option('--token <token>', 'require Authorization: Bearer <token> on every route but /healthz (or set LINKTRACE_TOKEN)');
  if (role !== 'query') {
    command
      .option('--nats <urls>', 'NATS servers with JetStream, comma-separated, e.g. nats://127.0.0.1:4222 (or set LINKTRACE_NATS)')
      .option('--partitions <n>', `trace-id partitions of a new stream (default ${ROLE_DEFAULTS.partitions}); an existing stream keeps its own and a different value is refused`)
      .option('--replicas <n>', 'replicas of the streams when this role creates them (3 on a three-node cluster)', ROLE_DEFAULTS.replicas)
      .option('--stream-max-bytes <size>', 'most bytes LINKTRACE_SPANS holds when this role creates it; past it collectors answer 429', ROLE_DEFAULTS.streamMaxBytes)
      .option('--stream-max-age <duration>', 'drop messages not consumed after this long, when this role creates LINKTRACE_SPANS (off: kept until consumed; the byte limit then refuses new ones)', ROLE_DEFAULTS.streamMaxAge);
  }
  if (role !== 'collector') {
    command
      .option('--store <url>', 'the shared store: clickhouse://[user[:password]@]host:8123/database, or a directory (embedded; one process only)')
      .option('--clickhouse-cluster <name>', 'with --store clickhouse://…: use Distributed tables over this cluster of <remote_servers>');
  }
  return command;
}

function action(role: RoleName) {
  return async (flags: RoleFlags): Promise<void> => {
    let options;
    try {
      options = parseRoleFlags(role, flags, process.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`linktrace ${role}: ${error.message}\n`);
      process.exit(2);
    }
    try {
      await runRole(options);
    } catch (error) {
      process.stderr.write(`linktrace ${role}: could not start: ${(error as Error).message}\n`);
      process.exit(1);
    }
  };
}

/** Adds the four roles to the `linktrace` program. */
export function register(program: Command): void {
  common(program.command('collector').description(DESCRIPTIONS.collector), 'collector')
    .option('--grpc-port <port>', `OTLP/gRPC port (default ${SERVE_DEFAULTS.grpcPort}; 0 turns gRPC off)`)
    .option('--publish-timeout <duration>', 'how long a publish waits for JetStream to acknowledge before the request is answered 503', ROLE_DEFAULTS.publishTimeout)
    .option('--max-request-size <size>', 'largest request body as sent, e.g. 4mb')
    .option('--max-decompressed-size <size>', 'largest gzip body once decompressed, e.g. 16mb')
    .option('--max-decompressing <size>', 'bytes being decompressed at once across all requests (past it: 429), e.g. 64mb')
    .option('--max-spans <n>', 'most spans in one request')
    .option('--max-attributes <n>', 'most attributes in one map (span, resource, event, link)')
    .option('--max-attribute-length <n>', 'longest attribute value (characters, or bytes for bytes values)')
    .option('--max-future <duration>', "refuse spans that start more than this after the collector's clock, e.g. 1h")
    .option('--header-timeout <duration>', `close a connection whose request line and headers take longer (default: ${DEFAULT_TIMEOUTS.headerMs / 1000}s)`)
    .option('--body-timeout <duration>', `close a connection whose whole request takes longer (default: ${DEFAULT_TIMEOUTS.bodyMs / 1000}s)`)
    .action(action('collector'));

  common(program.command('ingester').description(DESCRIPTIONS.ingester), 'ingester')
    .option('--fetch-batch <n>', 'messages pulled and stored per write', ROLE_DEFAULTS.fetchBatch)
    .option('--retention <duration>', 'keep spans this long after they arrived (ClickHouse: table TTL; embedded: a retention job), 0 or off keeps them forever', SERVE_DEFAULTS.retention)
    .action(action('ingester'));

  addCheckerOptions(common(program.command('checker').description(DESCRIPTIONS.checker), 'checker'))
    .option('--partition <i/N>', 'this checker is the i-th (from 0) of N checkers: it owns the partitions p with p mod N = i; every checker of a deployment needs a different i and the same N', '0/1')
    .option('--data <dir>', "this checker's own directory (its checkpoint; flow contracts come from --flows: the roles have no API to declare them)", './linktrace-checker-data')
    .option('--fetch-batch <n>', 'messages pulled per fetch', ROLE_DEFAULTS.fetchBatch)
    .action(action('checker'));

  common(program.command('query').description(DESCRIPTIONS.query), 'query')
    .option('--ui <dir>', 'serve the web UI from this directory (default: the built packages/web)')
    .option('--no-ui', 'do not serve the web UI')
    .action(action('query'));
}
