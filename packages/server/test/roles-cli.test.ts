/**
 * `linktrace collector|ingester|checker|query` as commands: bad flags exit 2 with a message naming
 * the flag; a collector started against a real nats-server prints where it listens, publishes, and
 * stops cleanly on SIGTERM; a role whose --partitions disagrees with the stream's refuses to start;
 * serve and a role still waiting for an unreachable ClickHouse stop on SIGTERM (systemctl stop).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { freePort } from '@linktrace/storage/clickhouse-testing';
import { after, before, describe, it } from 'node:test';
import { encodeNativeJson } from '@linktrace/model';
import { exitWithin, runCli } from './serve-helpers.js';
import { get, post, tempDir } from './ingest-helpers.js';
import { newTraceId, shopSync } from './checker-traces.js';
import { NATS_BINARY, startLocalNats, until, type LocalNats } from './roles-helpers.js';

describe('linktrace roles (CLI)', { timeout: 120_000 }, () => {
  let nats: LocalNats;
  before(async () => {
    nats = await startLocalNats();
  });
  after(async () => {
    await nats?.destroy();
  });

  const refusals: [string[], RegExp][] = [
    [['ingester', '--nats', 'nats://127.0.0.1:4222'], /linktrace ingester: --store: required/],
    [['checker', '--store', 'x'], /linktrace checker: --nats: required/],
    [['checker', '--nats', 'nats://127.0.0.1:4222', '--store', 'x', '--partition', '2/2'], /--partition: the index 2 must be less than N \(2\)/],
    [['checker', '--nats', 'nats://127.0.0.1:4222', '--store', 'x', '--partition', 'first'], /--partition: "first" is not i\/N/],
    [['collector', '--nats', 'http://127.0.0.1:4222'], /--nats: "http:\/\/127.0.0.1:4222" is not nats:\/\/\[user:password@\|token@\]host\[:port\]/],
    [['collector', '--nats', 'nats://u:s3cret@127.0.0.1:4222,nats://v:other@127.0.0.1:4223'], /--nats: the servers carry different credentials/],
    [['collector', '--nats', 'nats://u:%zz@127.0.0.1:4222'], /--nats: the credentials before "@" are not valid percent-encoding/],
    [['collector', '--nats', 'nats://127.0.0.1:4222', '--partitions', '0'], /--partitions/],
    [['query'], /linktrace query: --store: required/],
  ];
  for (const [args, message] of refusals) {
    it(`refuses ${args.join(' ')} with exit code 2`, async () => {
      const proc = runCli(args);
      const exit = await exitWithin(proc, 30_000);
      assert.equal(exit.code, 2, proc.stderr());
      assert.match(proc.stderr(), message);
    });
  }

  it('runs a collector: banner, publish, SIGTERM stops it with exit code 0', async () => {
    const proc = runCli(['collector', '--nats', nats.url, '--port', '0', '--grpc-port', '0', '--partitions', '4']);
    try {
      const url = await until('the banner', () => Promise.resolve(/collector: listening on (http:\/\/\S+)/.exec(proc.stdout())?.[1]));
      assert.match(proc.stdout(), /NATS {7}nats:\/\/127\.0\.0\.1:\d+ {3}\(stream LINKTRACE_SPANS/);
      await until('NATS', async () => ((await get(`${url}/healthz`)).status === 200 ? true : undefined));
      const res = await post(`${url}/api/v1/spans`, JSON.stringify(encodeNativeJson(shopSync(newTraceId()))), { 'content-type': 'application/json' });
      assert.equal(res.status, 200, res.body.toString());
      proc.child.kill('SIGTERM');
      const exit = await exitWithin(proc, 30_000);
      assert.equal(exit.code, 0, proc.stderr());
      assert.match(proc.stdout(), /collector: stopped/);
    } finally {
      proc.kill();
    }
  });

  it('a checker whose --partitions differs from the stream refuses to run: exit code 1 and why', async () => {
    const data = await tempDir('linktrace-checker-cli-');
    try {
      // The collector above made the stream with 4 partitions.
      const proc = runCli(['checker', '--nats', nats.url, '--store', data, '--data', data, '--port', '0', '--partitions', '8']);
      const exit = await exitWithin(proc, 60_000);
      assert.equal(exit.code, 1, proc.stdout());
      assert.match(proc.stderr(), /linktrace checker: cannot run: --partitions 8: the stream LINKTRACE_SPANS has 4 partitions/);
      // Said once: the role's own warning and the CLI's exit message must not both print it.
      assert.equal(proc.stderr().split('--partitions 8: the stream LINKTRACE_SPANS has 4 partitions').length - 1, 1, proc.stderr());
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });

  it('a collector reaches a nats-server that wants a user and password; credentials never printed; wrong ones named', async () => {
    const secured = await startLocalNats(undefined, ['--user', 'linktrace', '--pass', 'p@ss:word']);
    const good = `nats://linktrace:${encodeURIComponent('p@ss:word')}@127.0.0.1:${secured.port}`;
    const ok = runCli(['collector', '--nats', good, '--port', '0', '--grpc-port', '0']);
    const fromEnv = runCli(['collector', '--nats', secured.url, '--port', '0', '--grpc-port', '0'], { LINKTRACE_NATS_USER: 'linktrace', LINKTRACE_NATS_PASSWORD: 'p@ss:word' });
    const bad = runCli(['collector', '--nats', `nats://linktrace:wrong@127.0.0.1:${secured.port}`, '--port', '0', '--grpc-port', '0']);
    try {
      for (const proc of [ok, fromEnv]) {
        const url = await until('the banner', () => Promise.resolve(/collector: listening on (http:\/\/\S+)/.exec(proc.stdout())?.[1]));
        await until('NATS', async () => ((await get(`${url}/healthz`)).status === 200 ? true : undefined));
        const res = await post(`${url}/api/v1/spans`, JSON.stringify(encodeNativeJson(shopSync(newTraceId()))), { 'content-type': 'application/json' });
        assert.equal(res.status, 200, res.body.toString());
        assert.match(proc.stdout(), new RegExp(`NATS {7}nats://127\\.0\\.0\\.1:${secured.port} `));
      }
      const badUrl = await until('the banner', () => Promise.resolve(/collector: listening on (http:\/\/\S+)/.exec(bad.stdout())?.[1]));
      await until('the refusal', () => Promise.resolve(/refused the credentials/.test(bad.stderr()) ? true : undefined));
      const health = await get(`${badUrl}/healthz`);
      assert.equal(health.status, 503);
      assert.match(health.body.toString(), /refused the credentials/);
      for (const proc of [ok, fromEnv, bad]) {
        for (const text of [proc.stdout(), proc.stderr()]) assert.doesNotMatch(text, /p@ss|wrong|%40/);
      }
    } finally {
      for (const proc of [ok, fromEnv, bad]) proc.kill();
      await secured.destroy();
    }
  });

  it('a collector pointed at a nats-server without JetStream says so (not a bare "503")', async () => {
    const port = await freePort();
    const plain = spawn(NATS_BINARY, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const proc = runCli(['collector', '--nats', `nats://127.0.0.1:${port}`, '--port', '0', '--grpc-port', '0']);
    try {
      const url = await until('the banner', () => Promise.resolve(/collector: listening on (http:\/\/\S+)/.exec(proc.stdout())?.[1]));
      await until('the warning', () => Promise.resolve(/JetStream does not answer on this server \(start nats-server with -js/.test(proc.stderr()) ? true : undefined));
      const health = await get(`${url}/healthz`);
      assert.equal(health.status, 503);
      assert.match(health.body.toString(), /JetStream does not answer/);
    } finally {
      proc.kill();
      plain.kill();
    }
  });

  // Before, the signal waited for a start that never came (the store stayed down): systemd had to SIGKILL.
  for (const role of ['serve', 'ingester'] as const) {
    it(`${role} waiting for an unreachable ClickHouse stops on SIGTERM with exit code 0`, async () => {
      const data = await tempDir('linktrace-store-wait-');
      const store = `clickhouse://127.0.0.1:${await freePort()}/linktrace`;
      const port = await freePort();
      const args =
        role === 'serve'
          ? ['serve', '--store', store, '--data', data, '--port', String(port), '--grpc-port', '0']
          : ['ingester', '--nats', nats.url, '--store', store, '--port', String(port)];
      const proc = runCli(args);
      try {
        // In the 2 s wait after the second try: the stop must not wait for the next one either.
        await until('the second retry', () => Promise.resolve(/retrying in 2s/.test(proc.stderr()) ? true : undefined));
        if (role === 'ingester') {
          // The stand-in's /healthz has the role's shape: role, and a reason naming the part.
          const health = JSON.parse((await get(`http://127.0.0.1:${port}/healthz`)).body.toString()) as Record<string, unknown>;
          assert.equal(health.role, 'ingester');
          assert.match(String(health.reason), /^store: ClickHouse at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
        }
        proc.child.kill('SIGTERM');
        const exit = await exitWithin(proc, 10_000);
        assert.equal(exit.code, 0, proc.stderr());
        assert.match(proc.stdout(), /SIGTERM: stopped while waiting for the store clickhouse:\/\/127\.0\.0\.1:\d+\/linktrace/);
      } finally {
        proc.kill();
        await rm(data, { recursive: true, force: true });
      }
    });
  }
});
