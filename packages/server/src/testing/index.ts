/**
 * `@linktrace/server/scale-testing`: what the split-role tests and the scale bench start — a NATS
 * cluster with JetStream, ClickHouse shards, and `linktrace <role>` processes — and how they charge
 * CPU to each. Test tooling, not a deployment tool (docs/deploy.md is that).
 */
export { startNatsCluster, assertNatsInstalled, NATS_BINARY, type NatsCluster, type NatsNode, type NatsClusterOptions } from './nats-cluster.js';
export { startClickHouseShards, type ClickHouseShards } from './clickhouse-shards.js';
export { startRole, CLI_MAIN, LISTENING, type RoleProcess, type RoleExit, type StartRoleOptions } from './role-process.js';
export { processCpuSeconds } from './process-cpu.js';
