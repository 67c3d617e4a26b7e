import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { LoadedModule } from './instrumentation.js';

/**
 * One hook on Node's CommonJS loader. Node 20 loads a CommonJS package through `Module._load` also
 * when an ES module imports it (the request is then the absolute file name), so one hook sees
 * `require('pg')`, `import pg from 'pg'` and a package's internal `require('./index.js')` alike.
 * Pure ES-module packages are not seen (none of the instrumented libraries is one).
 */
export type LoadListener = (exports: unknown, loaded: LoadedModule) => void;

interface Watch {
  readonly packageName: string;
  /** Path inside the package, with `/`; undefined = the package's main entry. */
  readonly file: string | undefined;
  readonly listener: LoadListener;
}

type LoadFunction = (request: string, parent: unknown, isMain: boolean) => unknown;
type ResolveFunction = (request: string, parent: unknown, isMain: boolean) => string;
interface LoaderInternals {
  _load: LoadFunction;
  _resolveFilename: ResolveFunction;
  _cache: Record<string, { exports: unknown } | undefined>;
}

const loader = Module as unknown as LoaderInternals;
const watches: Watch[] = [];
let originalLoad: LoadFunction | undefined;
/** filename → what it is (a watched file or not), so each file is classified once. */
const classified = new Map<string, { packageName: string; packageDir: string; relative: string; isMain: boolean } | null>();
const versions = new Map<string, string | undefined>();

/** Calls `listener` for the module now and every time a matching file is loaded for the first time. */
export function watchModule(packageName: string, file: string | undefined, listener: LoadListener): () => void {
  const watch: Watch = { packageName, file: file?.replace(/^\.\//, ''), listener };
  watches.push(watch);
  installHook();
  // Files already loaded before the watch started (programmatic enable after the app's imports).
  for (const [filename, cached] of Object.entries(loader._cache)) {
    if (cached === undefined) continue;
    const info = classify(filename);
    if (info !== null && matches(watch, info)) notify(watch, cached.exports, filename, info);
  }
  return () => {
    const index = watches.indexOf(watch);
    if (index >= 0) watches.splice(index, 1);
  };
}

function installHook(): void {
  if (originalLoad !== undefined) return;
  const original = loader._load;
  originalLoad = original;
  loader._load = function linktraceLoad(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    const exports = original.call(this, request, parent, isMain);
    if (watches.length === 0 || typeof request !== 'string' || Module.isBuiltin(request)) return exports;
    let filename: string;
    try {
      filename = loader._resolveFilename(request, parent, isMain);
    } catch {
      return exports;
    }
    const info = classify(filename);
    if (info === null) return exports;
    for (const watch of watches.slice()) if (matches(watch, info)) notify(watch, exports, filename, info);
    return exports;
  };
}

const notified = new WeakMap<Watch, Set<string>>();

function notify(watch: Watch, exports: unknown, filename: string, info: NonNullable<ReturnType<typeof classify>>): void {
  let seen = notified.get(watch);
  if (seen === undefined) notified.set(watch, (seen = new Set()));
  if (seen.has(filename)) return;
  seen.add(filename);
  try {
    watch.listener(exports, { name: info.packageName, version: versionOf(info.packageDir), filename });
  } catch {
    // Listeners guard themselves; a throw here must never break the application's require.
  }
}

function matches(watch: Watch, info: NonNullable<ReturnType<typeof classify>>): boolean {
  if (watch.packageName !== info.packageName) return false;
  return watch.file === undefined ? info.isMain : watch.file === info.relative;
}

function classify(filename: string): { packageName: string; packageDir: string; relative: string; isMain: boolean } | null {
  const known = classified.get(filename);
  if (known !== undefined) return known;
  let result: ReturnType<typeof classify> = null;
  const marker = `${sep}node_modules${sep}`;
  const at = filename.lastIndexOf(marker);
  if (at >= 0) {
    const rest = filename.slice(at + marker.length).split(sep);
    const scoped = rest[0]!.startsWith('@');
    const packageName = scoped ? `${rest[0]}/${rest[1]}` : rest[0]!;
    const depth = scoped ? 2 : 1;
    // A package nobody watches yet is not cached as "not watched": a later watch (the next
    // target, the next instrumentation) must still find its files already in the require cache.
    if (rest.length > depth && !watches.some((w) => w.packageName === packageName)) return null;
    if (rest.length > depth) {
      const packageDir = filename.slice(0, at + marker.length) + rest.slice(0, depth).join(sep);
      const relative = rest.slice(depth).join('/');
      result = { packageName, packageDir, relative, isMain: mainOf(packageDir, packageName) === filename };
    }
  }
  // Only cache files of watched packages, and unwatched ones once watches exist, to keep it small.
  if (result !== null || watches.length > 0) classified.set(filename, result);
  return result;
}

const mains = new Map<string, string | null>();

function mainOf(packageDir: string, packageName: string): string | null {
  let main = mains.get(packageDir);
  if (main !== undefined) return main;
  try {
    // Resolving the name from the directory that holds the package yields its CommonJS main entry.
    main = createRequire(join(dirname(packageDir), packageName.includes('/') ? '..' : '.', 'linktrace-resolve.js')).resolve(packageName);
  } catch {
    main = null;
  }
  mains.set(packageDir, main);
  return main;
}

function versionOf(packageDir: string): string | undefined {
  if (versions.has(packageDir)) return versions.get(packageDir);
  let version: string | undefined;
  try {
    const parsed = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown };
    version = typeof parsed.version === 'string' ? parsed.version : undefined;
  } catch {
    version = undefined;
  }
  versions.set(packageDir, version);
  return version;
}
