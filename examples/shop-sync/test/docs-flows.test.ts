/**
 * The flow contracts the docs show (blocks marked `<!-- doc-test: flows -->`) hold for the shop-sync
 * demo: each parses with the analysis parser, and healthy changes of the running demo are complete
 * instances of every flow, not broken ones (a misspelt target in the docs breaks every instance).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { evaluateFlow, formatFlowError, parseFlows, type FlowContract } from '@linktrace/analysis';
import { CollectingSpanProcessor } from '@linktrace/sdk';
import { startShopSync, type ShopSync } from '../src/start-shop-sync.js';
import { docBlocks } from './doc-blocks.js';
import { ended, traceIdOf, unfinished, waitFor } from './trace-helpers.js';

const collector = new CollectingSpanProcessor();
let demo: ShopSync;

before(async () => {
  demo = await startShopSync({ backends: 'memory', processors: [collector] });
});
after(async () => {
  await demo?.close();
});

function contractsOf(): { where: string; flow: FlowContract }[] {
  const blocks = docBlocks('flows');
  assert.ok(blocks.length >= 1, 'docs/chain-checks.md marks its flows.yaml example with <!-- doc-test: flows -->');
  return blocks.flatMap((block) => {
    assert.ok(block.language === 'yaml' || block.language === 'json', `${block.where}: a flows block is yaml or json, not ${block.language}`);
    const parsed = parseFlows(block.text, block.language);
    if (!parsed.ok) assert.fail(`${block.where}: ${parsed.errors.map(formatFlowError).join('; ')}`);
    return parsed.flows.map((flow) => ({ where: block.where, flow }));
  });
}

/** Changes a fresh shop and waits for its whole trace (every span ended, shop-query updated). */
async function healthyChange(id: string): Promise<string> {
  const reply = await demo.changeShop(id, true);
  assert.equal(reply.status, 200, reply.body);
  const { version } = JSON.parse(reply.body) as { version: number };
  const traceId = await waitFor('the change trace', () => traceIdOf(collector, id, version));
  await waitFor('the shop at shop-query', async () => ((await demo.getShop(id)).status === 200 ? true : undefined));
  await waitFor('every span of the trace ended', () => (unfinished(collector, traceId).length === 0 ? true : undefined));
  return traceId;
}

void it("the docs' flow contracts parse, and the demo's healthy changes are complete instances of each", async () => {
  const contracts = contractsOf();
  const traces = [await healthyChange(`doc-${process.pid}-1`), await healthyChange(`doc-${process.pid}-2`)];
  for (const { where, flow } of contracts) {
    for (const traceId of traces) {
      const spans = ended(collector, traceId);
      const result = evaluateFlow(flow, spans, Date.now() * 1000);
      const missing = result.steps.map((s, i) => `${flow.steps[i]!.service} ${flow.steps[i]!.stage} ${flow.steps[i]!.target ?? ''}: ${s.status}`);
      assert.equal(result.status, 'complete', `${where} flow ${flow.name} on trace ${traceId}: ${missing.join('; ')}; findings: ${result.findings.map((f) => f.message).join('; ')}`);
    }
  }
});
