import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

// Read from the source tree (tsc copies no .mjs), inside the repository so that the packages resolve.
const APPS = fileURLToPath(new URL('../../test/fixtures/apps/', import.meta.url));

interface Outcome {
  which: string;
  wrapped: boolean;
  unhandled: string | null;
}

function runCase(which: string): Promise<Outcome> {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('LINKTRACE_') || key.startsWith('OTEL_') || key === 'NODE_OPTIONS' || key === 'NODE_TEST_CONTEXT' || key === 'TRACEPARENT') delete env[key];
  }
  // Spans go nowhere that answers (port 9, discard); the exporter's failures must not matter here.
  env['LINKTRACE_ENDPOINT'] = 'http://127.0.0.1:9';
  const child = spawn(process.execPath, ['--import', '@linktrace/sdk/register', 'unhandled-db-rejection.mjs', which], { cwd: APPS, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`child ${which} exited ${code}: ${stdout} ${stderr}`));
      else resolve(JSON.parse(line) as Outcome);
    }),
  );
}

describe('an unhandled rejection of an instrumented database call stays unhandled', () => {
  for (const [which, pattern] of [
    ['pg', /syntax error at or near "SELEC"/],
    ['pg-pool', /syntax error at or near "SELEC"/],
    ['ioredis', /unknown command 'unhandled_/],
  ] as const) {
    it(`${which}: the rejection of a call nobody handles reaches unhandledRejection; a callback call's does not`, async () => {
      const outcome = await runCase(which);
      assert.equal(outcome.wrapped, true, 'the instrumentation is on in the child');
      assert.ok(outcome.unhandled !== null, 'unhandledRejection was raised');
      assert.match(outcome.unhandled, pattern);
      if (which === 'ioredis') assert.doesNotMatch(outcome.unhandled, /handled_.*handled_/);
    });
  }
});
