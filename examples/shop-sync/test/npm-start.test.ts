import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

interface FindingJson {
  rule: string;
  service: string;
  entity?: { key: string };
}

describe('npm start (server + shop-sync demo on stand-ins)', () => {
  it('finds the fault of the third change and none on the healthy ones', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'linktrace-npm-start-'));
    const script = fileURLToPath(new URL('../src/demo-with-server.js', import.meta.url));
    // Its own process group, so that cleanup stops the demo and the server it started together.
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, PORT: '0', LINKTRACE_DATA: dataDir, LINKTRACE_CHECK_DELAY: '1s' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 45_000;
      let base: string | undefined;
      while (base === undefined && Date.now() < deadline) {
        base = /listening on (http:\/\/\S+)/.exec(out)?.[1];
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(base, out);
      let findings: FindingJson[] = [];
      while (!findings.some((f) => f.entity?.key === 'shop-3') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        const answer = await fetch(`${base}/api/v1/findings`);
        if (answer.ok) findings = ((await answer.json()) as { findings: FindingJson[] }).findings;
      }
      const third = findings.filter((f) => f.entity?.key === 'shop-3');
      assert.deepEqual(
        third.map((f) => `${f.rule} ${f.service}`),
        ['missing-write sync-worker'],
        `findings: ${JSON.stringify(findings)}\n${out}`,
      );
      for (const healthy of ['shop-1', 'shop-2']) {
        assert.deepEqual(findings.filter((f) => f.entity?.key === healthy), [], `${healthy} is healthy`);
      }
      assert.match(out, /linktrace alert rule=missing-write service="sync-worker"/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      child.stdout.destroy();
      child.stderr.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
