/** `.ci/check-services.mjs`, run by `.ci/run` before anything else: one clear line per missing service. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const SCRIPT = fileURLToPath(new URL('../../../../.ci/check-services.mjs', import.meta.url));

function listen(greeting?: string): Promise<net.Server> {
  const server = net.createServer((socket) => {
    if (greeting !== undefined) socket.write(greeting);
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const portOf = (server: net.Server): string => String((server.address() as AddressInfo).port);

void it('names every missing service and why, and exits 1; all present exits 0', async () => {
  const closed = await listen();
  const closedPort = portOf(closed);
  await new Promise((resolve) => closed.close(resolve));
  const plain = await listen();
  const natsWithout = await listen('INFO {"server_id":"x","jetstream":false}\r\n');
  const natsWith = await listen('INFO {"server_id":"x","jetstream":true}\r\n');
  const check = (env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [SCRIPT], { env: { PATH: process.env['PATH'] ?? '', ...env } }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
      );
    });
  try {
    const up = { CI_POSTGRESQL_PORT: portOf(plain), CI_MARIADB_PORT: portOf(plain), CI_REDIS_PORT: portOf(plain), CI_RABBITMQ_PORT: portOf(plain) };
    const bad = await check({ ...up, CI_POSTGRESQL_PORT: closedPort, CI_REDIS_PORT: closedPort, CI_NATS_PORT: portOf(natsWithout) });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`PostgreSQL on 127\\.0\\.0\\.1:${closedPort}: connection refused; the tests need it`));
    assert.match(bad.stderr, new RegExp(`Redis on 127\\.0\\.0\\.1:${closedPort}: connection refused`));
    assert.match(bad.stderr, /NATS on 127\.0\.0\.1:\d+: JetStream is off/);
    assert.match(bad.stderr, /3 service\(s\) missing: PostgreSQL, Redis, NATS/);
    assert.match(bad.stdout, /MariaDB on 127\.0\.0\.1:\d+: ok/);
    const good = await check({ ...up, CI_NATS_PORT: portOf(natsWith) });
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout.match(/: ok$/gm)?.length, 5);
  } finally {
    for (const s of [plain, natsWithout, natsWith]) s.close();
  }
});
