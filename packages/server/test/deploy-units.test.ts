/**
 * The systemd units of deploy/systemd/ (docs/deploy.md): `systemd-analyze verify` accepts each one
 * without a warning, and each ExecStart, with the environment file's values put in as systemd would,
 * is a `linktrace` subcommand whose every flag that subcommand's --help lists. A unit naming a role
 * or a flag the CLI does not have fails here, not on an operator's machine.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { BIN } from './serve-helpers.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const UNITS = join(REPO, 'deploy', 'systemd');
/** Where the units expect the install (`npm install` of the tarballs in /opt/linktrace, docs/deploy.md). */
const INSTALL = '/opt/linktrace';

const unitFiles = readdirSync(UNITS).filter((f) => f.endsWith('.service')).sort();

/** `KEY=value` lines of the environment file (comments and blanks skipped), as systemd reads them. */
function readEnvFile(path: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    assert.ok(eq > 0, `${path}: not KEY=value: ${line}`);
    env.set(t.slice(0, eq), t.slice(eq + 1));
  }
  return env;
}

/** The `[Service]` keys of a unit file (last one wins, as for systemd's single-valued keys). */
function serviceKeys(text: string): Map<string, string> {
  const keys = new Map<string, string>();
  let section = '';
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(t);
    if (header !== null) section = header[1]!;
    else if (section === 'Service') keys.set(t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1));
  }
  return keys;
}

/**
 * An ExecStart line's words after systemd's expansion: `${VAR}` becomes one word, a bare `$VAR`
 * word is split at whitespace (systemd.service(5), "Command lines"). An unset variable is an error here.
 */
function execWords(line: string, env: Map<string, string>): string[] {
  const words: string[] = [];
  for (const word of line.trim().split(/\s+/)) {
    const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    const lookup = (name: string): string => {
      const v = env.get(name);
      assert.ok(v !== undefined, `ExecStart uses $${name}, which linktrace.env does not set`);
      return v;
    };
    if (bare !== null) words.push(...lookup(bare[1]!).split(/\s+/).filter((w) => w !== ''));
    else words.push(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => lookup(name)));
  }
  return words;
}

it('deploy/systemd has a unit for serve and for each split role', () => {
  assert.deepEqual(unitFiles, [
    'linktrace-checker@.service',
    'linktrace-collector.service',
    'linktrace-ingester.service',
    'linktrace-query.service',
    'linktrace-serve.service',
  ]);
});

const env = readEnvFile(join(UNITS, 'linktrace.env'));

for (const file of unitFiles) {
  it(`${file}: ExecStart is a linktrace subcommand with flags that subcommand has`, () => {
    // A template's instance is the checker's share i/N, escaped: linktrace-checker@0-2 runs --partition 0/2.
    const text = readFileSync(join(UNITS, file), 'utf8').replaceAll('%I', '0/2').replaceAll('%i', '0-2');
    const keys = serviceKeys(text);
    const exec = keys.get('ExecStart');
    assert.ok(exec !== undefined, 'no ExecStart');
    const [program, role, ...args] = execWords(exec, env);
    assert.equal(program, `${INSTALL}/node_modules/.bin/linktrace`);
    assert.equal(file.replace('@', ''), `linktrace-${role}.service`, 'the unit is named after its role');
    const help = spawnSync(process.execPath, [BIN, role!, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, `linktrace ${role} --help: ${help.stderr}`);
    const flags = args.filter((a) => a.startsWith('--'));
    assert.ok(flags.length > 0);
    for (const flag of flags) assert.ok(new RegExp(`(^|[\\s,])${flag}[\\s=<,]`, 'm').test(help.stdout), `linktrace ${role} has no ${flag}:\n${help.stdout}`);
    // Each flag is followed by its value where it takes one (no flag swallowed by a missing value).
    for (let i = 0; i < args.length; i++) {
      if (!args[i]!.startsWith('--')) assert.ok(i > 0 && args[i - 1]!.startsWith('--'), `stray word ${args[i]} in ${exec}`);
    }
    assert.equal(keys.get('Restart'), 'on-failure');
  });
}

it('systemd-analyze verify accepts every unit without a warning', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined) {
    throw new Error('systemd-analyze is not installed (Debian package systemd): it checks the units of deploy/systemd/');
  }
  const dir = mkdtempSync(join(tmpdir(), 'lt-units-'));
  try {
    for (const file of unitFiles) {
      // The install path becomes this checkout, where node_modules/.bin/linktrace exists: verify
      // checks that ExecStart's program is there and executable.
      writeFileSync(join(dir, file), readFileSync(join(UNITS, file), 'utf8').replaceAll(`${INSTALL}/`, REPO));
    }
    copyFileSync(join(UNITS, 'linktrace.env'), join(dir, 'linktrace.env'));
    // Templates as they are and as an instance (specifiers expanded).
    const instances = unitFiles.filter((f) => f.includes('@.')).map((f) => f.replace('@.', '@0-2.'));
    const paths = [...unitFiles, ...instances].map((f) => join(dir, f));
    const r = spawnSync('systemd-analyze', ['verify', ...paths], { encoding: 'utf8', timeout: 120_000 });
    t.diagnostic(`systemd-analyze verify: exit ${r.status}`);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const aboutOurs = (r.stderr + r.stdout).split('\n').filter((l) => /linktrace/.test(l));
    assert.deepEqual(aboutOurs, [], 'warnings about our units');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
