/**
 * ensureStreams against a real single nats-server: what an operator reads when the flags and NATS
 * disagree. A stream kept from an earlier start with other replicas is named in the warning (the
 * systemd units pass --replicas 3; a stream made with 1 would otherwise stay unreplicated
 * silently), and --replicas 3 on a single server says which flag to change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { ensureStreams } from '../src/roles/jetstream-setup.js';
import type { NatsOptions } from '../src/roles/role-options.js';
import { startLocalNats, type LocalNats } from './roles-helpers.js';

const flags = (replicas: number): NatsOptions => ({ servers: [], replicas, streamMaxBytes: 1024 ** 3, streamMaxAgeMs: 0 });

describe('ensureStreams', { timeout: 60_000 }, () => {
  let nats: LocalNats;
  let nc: NatsConnection;
  before(async () => {
    nats = await startLocalNats();
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc?.close();
    await nats?.destroy();
  });

  it('--replicas 3 on a single nats-server: the error names the flag and the way out', async () => {
    const jsm = await nc.jetstreamManager();
    await assert.rejects(ensureStreams(jsm, flags(3), () => undefined), /replicas > 1 not supported.*--replicas 3 needs a NATS cluster; use --replicas 1/);
  });

  it('an existing stream with other replicas than the flags: a warning that says so', async () => {
    const jsm = await nc.jetstreamManager();
    const warnings: string[] = [];
    await ensureStreams(jsm, flags(1), (line) => warnings.push(line));
    assert.equal(warnings.length, 0, 'the same flags as the stream: no warning');
    await ensureStreams(jsm, { ...flags(1), replicas: 2 }, (line) => warnings.push(line));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /keeps its own settings \(.*replicas 1\)/);
  });
});
