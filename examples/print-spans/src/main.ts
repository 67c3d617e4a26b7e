/**
 * `npm start` (until the server exists): runs the two example services and closes a shop every two
 * seconds, printing every span. `--once` closes one shop and exits (used by the tests).
 */
import { closeShop, startDemo } from './services.js';

const once = process.argv.includes('--once');
const demo = await startDemo();
console.log(`linktrace example: merchant-api at ${demo.merchantUrl}; closing a shop every 2 s (Ctrl-C stops)`);

let shop = 40;
async function tick(): Promise<void> {
  const id = String(++shop);
  const reply = await closeShop(demo, id);
  console.log(`closed shop ${id}: ${reply}`);
  await Promise.all([demo.merchant.forceFlush(), demo.shopQuery.forceFlush()]);
}

if (once) {
  await tick();
  await demo.close();
} else {
  await tick();
  const timer = setInterval(() => void tick().catch((e: unknown) => console.error(e)), 2000);
  const stop = () => {
    clearInterval(timer);
    void demo.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
