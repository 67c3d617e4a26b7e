import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { exitWithin, runCli } from './serve-helpers.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

for (const flag of ['--version', '-V']) {
  void it(`linktrace ${flag} prints the server package's version and exits 0`, async () => {
    const proc = runCli([flag]);
    const exit = await exitWithin(proc, 15_000);
    assert.equal(exit.code, 0, proc.stderr());
    assert.equal(proc.stdout(), `${version}\n`);
  });
}
