import { FAULTS, parseFault } from './faults.js';
import { startShopSync } from './start-shop-sync.js';

/**
 * `node dist/src/main.js [--real] [--endpoint <otlp url>]`: starts the demo (in-process stand-ins by
 * default), makes one healthy change and one change per fault, prints the replies, and keeps running
 * until Ctrl-C so that the services can be called by hand.
 */
const args = process.argv.slice(2);
const endpointAt = args.indexOf('--endpoint');
const endpoint = endpointAt >= 0 ? args[endpointAt + 1] : process.env['LINKTRACE_ENDPOINT'];
const demo = await startShopSync({ backends: args.includes('--real') ? 'real' : 'memory', endpoint, slowMs: 300 });
console.log(`merchant-api  ${demo.merchantUrl}   (PUT /shops/:id {"open":false}, header x-fault: <fault>)`);
console.log(`shop-query    ${demo.queryUrls.join('  ')}   (GET /shops/:id)`);
console.log(`backends      ${demo.backends.kind}${endpoint === undefined ? '' : `, spans to ${endpoint}`}`);

const healthy = await demo.changeShop('shop-1', false);
console.log(`healthy change -> ${healthy.status} ${healthy.body}`);
for (const fault of FAULTS) {
  if (fault === 'stop-consumer' || parseFault(fault) === undefined) continue; // a runtime toggle, not a header
  const reply = await demo.changeShop(`shop-${fault}`, false, fault);
  console.log(`${fault.padEnd(18)} -> ${reply.status} ${reply.body}`);
}
await new Promise((r) => setTimeout(r, 500));
console.log(`GET shop-1 -> ${(await demo.getShop('shop-1')).body}`);
await demo.flush();

const stop = (): void => {
  void demo.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
if (args.includes('--once')) stop();
