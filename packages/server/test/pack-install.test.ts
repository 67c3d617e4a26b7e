/**
 * What a user outside this repository gets until the packages are published (README, "Install from
 * the repository"): `npm pack` of model, sdk, storage, analysis and server gives tarballs that
 * install together into an app in the system's temp directory, with no install scripts, no
 * development dependency at run time and every entry point present; an app run with
 * `node --import @linktrace/sdk/register` exports its spans; the installed `linktrace` command runs.
 *
 * Needs the packages built (`tsc -b`, as before every test) and the npm registry, or npm's cache
 * filled by `npm ci`, for the server's and storage's own dependencies.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { decodeOtlpProto, type Span } from '@linktrace/model';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** The libraries and the server; the web UI is a static bundle the server finds when it is installed beside it. */
const LIBRARIES = ['model', 'sdk', 'storage', 'analysis', 'server'] as const;
const PACKAGES = [...LIBRARIES, 'web'] as const;
const BUILTINS = new Set(builtinModules);
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];

interface Manifest {
  name: string;
  version: string;
  main?: string;
  bin?: Record<string, string>;
  exports?: Record<string, { types: string; default: string }>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** npm settings that say how to reach the registry: kept, where npm run's others are not. */
const REGISTRY_SETTINGS = /^npm_config_(registry|cache|proxy|https_proxy|noproxy|strict_ssl|cafile|userconfig|globalconfig)$/i;

/**
 * The environment for a child npm or node: none of this run's NODE_OPTIONS or tracing settings, and
 * none of the npm_* variables `npm test` sets (npm_config_local_prefix would install into the repo).
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (REGISTRY_SETTINGS.test(k)) {
      env[k] = v;
      continue;
    }
    if (/^(npm_|NODE_OPTIONS$|NODE_TEST_CONTEXT$|LINKTRACE_|OTEL_|TRACEPARENT$|TRACESTATE$|INIT_CWD$)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, env = cleanEnv(), timeout = 120_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

async function jsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await jsFiles(full)));
    else if (entry.name.endsWith('.js')) out.push(full);
  }
  return out;
}

/** Bare module specifiers a compiled file imports (static, re-exported or dynamic with a literal). */
function importedPackages(code: string): string[] {
  const found: string[] = [];
  const patterns = [/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]!);
  return found
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !BUILTINS.has(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

describe('npm pack tarballs install and run outside the repository', () => {
  let dir: string;
  let app: string;
  const tarballs = new Map<string, string>();

  before(async () => {
    if (!existsSync(join(REPO, 'packages/web/dist/ui/index.html'))) {
      throw new Error('the web UI is not built: run `npm run build` (or `npm run build -w @linktrace/web`) first');
    }
    dir = await mkdtemp(join(tmpdir(), 'linktrace-pack-'));
    app = join(dir, 'app');
    const workspaces = PACKAGES.flatMap((p) => ['-w', `packages/${p}`]);
    const { stdout } = await run('npm', ['pack', ...workspaces, '--pack-destination', dir, '--json'], REPO);
    for (const packed of JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[]) {
      tarballs.set(packed.name, join(dir, packed.filename));
      for (const f of packed.files) {
        const shipped = packed.name === '@linktrace/web' ? /^(package\.json|dist\/ui\/.+)$/ : /^(package\.json|bin\/[\w-]+\.js|dist\/src\/.+)$/;
        assert.match(f.path, shipped, `${packed.name} packs ${f.path}`);
      }
    }
    assert.deepEqual([...tarballs.keys()].sort(), PACKAGES.map((p) => `@linktrace/${p}`).sort());
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'pack-app', private: true, type: 'module' }));
    // All tarballs at once, as the README says: our packages depend on each other by version, and
    // npm takes each from the tarball installed beside it. The rest comes from npm's cache when it
    // has it (npm ci fills it), else from the registry.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs.values()], app);
  });

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('each installed package: no install scripts, entry points present, imports only its dependencies', async () => {
    for (const p of LIBRARIES) {
      const root = join(app, 'node_modules', '@linktrace', p);
      const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Manifest;
      for (const script of INSTALL_SCRIPTS) assert.equal(manifest.scripts?.[script], undefined, `${manifest.name} has a ${script} script`);
      const entries = [manifest.main, ...Object.values(manifest.bin ?? {}), ...Object.values(manifest.exports ?? {}).flatMap((e) => [e.types, e.default])];
      for (const entry of entries) {
        if (entry === undefined || entry.includes('*')) continue;
        await readFile(join(root, entry)).catch(() => assert.fail(`${manifest.name}: entry point ${entry} is not in the tarball`));
      }
      const allowed = new Set([manifest.name, ...Object.keys(manifest.dependencies ?? {})]);
      for (const file of await jsFiles(join(root, 'dist'))) {
        for (const name of importedPackages(await readFile(file, 'utf8'))) {
          assert.ok(allowed.has(name), `${manifest.name}/${relative(root, file)} imports ${name}, which is not among its dependencies`);
        }
      }
      // Resolved from the app, not from this repository's workspaces.
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `console.log(import.meta.resolve(${JSON.stringify(manifest.name)}))`], app);
      assert.ok(fileURLToPath(stdout.trim()).startsWith(root), `${manifest.name} resolves to ${stdout.trim()}`);
    }
  });

  it('an app run with --import @linktrace/sdk/register exports its spans to the collector', async () => {
    const requests: string[] = [];
    const spans: Span[] = [];
    const collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push(`${req.method} ${req.url}`);
        if (req.url === '/v1/traces') spans.push(...decodeOtlpProto(Buffer.concat(chunks)).spans);
        res.end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
      // A plain node:http service that calls itself once and stops.
      await writeFile(
        join(app, 'app.mjs'),
        [
          "import http from 'node:http';",
          "const server = http.createServer((req, res) => res.end('ok'));",
          "server.listen(0, '127.0.0.1', () => {",
          '  http.get(`http://127.0.0.1:${server.address().port}/hello`, (res) => {',
          "    res.resume().on('end', () => server.close());",
          '  });',
          '});',
        ].join('\n'),
      );
      await run(process.execPath, ['--import', '@linktrace/sdk/register', 'app.mjs'], app, cleanEnv({ LINKTRACE_ENDPOINT: endpoint, LINKTRACE_SERVICE: 'pack-app' }));
      assert.ok(requests.length >= 1 && requests.every((r) => r === 'POST /v1/traces'), requests.join(', '));
      const server = spans.find((s) => s.kind === 'server');
      const client = spans.find((s) => s.kind === 'client');
      assert.ok(server !== undefined && client !== undefined, `spans: ${spans.map((s) => `${s.kind} ${s.name}`).join(', ')}`);
      assert.equal(server.traceId, client.traceId);
      assert.equal(server.parentSpanId, client.spanId);
      for (const s of spans) assert.equal(s.service, 'pack-app');
    } finally {
      collector.close();
    }
  });

  it('the installed linktrace command prints its version and serves with its embedded store', async () => {
    const { version } = JSON.parse(await readFile(join(REPO, 'packages/server/package.json'), 'utf8')) as Manifest;
    assert.equal((await run('npx', ['--no-install', 'linktrace', '--version'], app)).stdout, `${version}\n`);
    const serve = spawn(join(app, 'node_modules/.bin/linktrace'), ['serve', '--port', '0', '--data', join(dir, 'data')], { cwd: app, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      serve.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        serve.stdout.on('data', (c: string) => {
          out += c;
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m !== null) resolve(m[1]!);
        });
        serve.on('exit', (code) => reject(new Error(`linktrace serve exited with ${code}: ${out}`)));
      });
      const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string; store: { reachable: boolean } };
      assert.equal(health.status, 'ok', JSON.stringify(health));
      assert.equal(health.store.reachable, true);
      // The UI from the installed @linktrace/web tarball, not the "not built yet" page.
      assert.ok(out.includes(join(app, 'node_modules/@linktrace/web/dist/ui')), out);
      const page = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module"[^>]* src="\.\/assets\/index-[\w-]+\.js"/);
    } finally {
      if (serve.exitCode === null && serve.signalCode === null) {
        const exited = new Promise((resolve) => serve.once('exit', resolve));
        serve.kill('SIGTERM');
        await exited;
      }
    }
  });
});
