/**
 * `npm start`: runs `linktrace serve` (collector, embedded store, query API) and the two example
 * services, which send their spans to it over OTLP/HTTP. A shop is closed every two seconds; each
 * trace's URL in the query API is printed. Ctrl-C stops both.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { otlpHttpExporter } from '@linktrace/sdk';
import { closeShop, startDemo } from './services.js';

const port = process.env.PORT ?? '4318';
const dataDir = process.env.LINKTRACE_DATA ?? 'linktrace-data';
const bin = fileURLToPath(new URL('../../../../packages/server/bin/linktrace.js', import.meta.url));
const server = spawn(process.execPath, [bin, 'serve', '--port', port, '--data', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });

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

const demo = await startDemo(() => otlpHttpExporter({ url: `${url}/v1/traces` }));
console.log(`demo: merchant-api and shop-query send their spans to ${url}; closing a shop every 2 s (Ctrl-C stops)`);

let shop = 40;
async function tick(): Promise<void> {
  const id = String(++shop);
  await closeShop(demo, id);
  await Promise.all([demo.merchant.forceFlush(), demo.shopQuery.forceFlush()]);
  console.log(`demo: closed shop ${id} — traces: ${url}/api/v1/traces?service=merchant-api&limit=5`);
}

await tick();
const timer = setInterval(() => void tick().catch((e: unknown) => console.error('demo:', e)), 2000);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  void demo.close().then(() => server.kill('SIGTERM'));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
server.once('exit', (code) => process.exit(code ?? 0));
