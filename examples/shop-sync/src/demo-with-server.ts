/**
 * `npm start`: runs `linktrace serve` (collector, embedded store, chain checker, query API) and the
 * shop-sync demo with in-process stand-ins for its databases, cache and queue, so that it works on a
 * machine with no services at all. Every few seconds the merchant closes or opens a shop: mostly
 * healthy changes, and now and then one with a fault switched on. The server finds the broken hops;
 * the findings URL is printed. Ctrl-C stops everything.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FAULTS, parseFault, type Fault } from './faults.js';
import { startShopSync } from './start-shop-sync.js';

const port = process.env['PORT'] ?? '4318';
const dataDir = process.env['LINKTRACE_DATA'] ?? 'linktrace-data';
const checkDelay = process.env['LINKTRACE_CHECK_DELAY'] ?? '5s';
const bin = fileURLToPath(new URL('../../../../packages/server/bin/linktrace.js', import.meta.url));
const server = spawn(process.execPath, [bin, 'serve', '--port', port, '--data', dataDir, '--check-delay', checkDelay, '--alert-log'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});

const url = await new Promise<string>((resolve, reject) => {
  let seen = '';
  server.stdout.setEncoding('utf8');
  server.stdout.on('data', (chunk: string) => {
    process.stdout.write(chunk);
    seen += chunk;
    const match = /listening on (http:\/\/\S+)/.exec(seen);
    if (match) resolve(match[1]!);
  });
  server.once('exit', (code) => reject(new Error(`linktrace serve exited with code ${String(code)} before listening`)));
});

const demo = await startShopSync({ backends: 'memory', endpoint: `${url}/v1/traces`, exportDelayMs: 200, slowMs: 300, reconcileDelayMs: 1000 });
// Header-driven faults only; stopping a consumer is a runtime toggle of the demo, not a per-change switch.
const faults = FAULTS.filter((f): f is Fault => f !== 'stop-consumer' && parseFault(f) !== undefined);
console.log(`demo: merchant-api ${demo.merchantUrl}, shop-query ${demo.queryUrls.join(' ')} (stand-in backends)`);
console.log(`demo: findings appear at ${url}/api/v1/findings once a trace has been quiet for ${checkDelay}`);

let round = 0;
async function tick(): Promise<void> {
  round++;
  const id = `shop-${round}`;
  // Every third change carries a fault, cycling through them, so each kind shows up in a few minutes.
  const fault = round % 3 === 0 ? faults[(round / 3 - 1) % faults.length] : undefined;
  const reply = await demo.changeShop(id, round % 2 === 0, fault);
  console.log(`demo: change ${id}${fault === undefined ? '' : ` with fault ${fault}`} -> ${reply.status}`);
}

await tick();
const timer = setInterval(() => void tick().catch((e: unknown) => console.error('demo:', e)), 2000);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  void demo
    .flush()
    .then(() => demo.close())
    .finally(() => server.kill('SIGTERM'));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
server.once('exit', (code) => process.exit(code ?? 0));
