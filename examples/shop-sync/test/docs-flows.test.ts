/**
 * The flow contracts the docs show (blocks marked `<!-- doc-test: flows -->`) hold for the shop-sync
 * demo: each parses with the analysis parser, and healthy changes of the running demo are complete
 * instances of every flow, not broken ones (a misspelt target in the docs breaks every instance).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { evaluateFlow, formatFlowError, parseFlows, type FlowContract } from '@linktrace/analysis';
import { CollectingSpanProcessor } from '@linktrace/sdk';
import { startShopSync, type ShopSync } from '../src/start-shop-sync.js';
import { docBlocks, REPO_ROOT } from './doc-blocks.js';
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

void it("chain-checks.md's evaluateFlow example: the finding for a dropped write is the message the docs print", async () => {
  const [{ flow }] = contractsOf().filter((c) => c.flow.name === 'shop-sync');
  assert.ok(flow !== undefined, 'the docs show a shop-sync flow');
  const doc = readFileSync(join(REPO_ROOT, 'docs/chain-checks.md'), 'utf8');
  const shown = /message: '(flow shop-sync: step [^']* never happened[^']*)'/.exec(doc)?.[1];
  assert.ok(shown !== undefined, 'chain-checks.md shows a flow-step-missing message');
  const traceId = await healthyChange(`doc-${process.pid}-3`);
  const spans = ended(collector, traceId).filter((s) => !(s.service === 'sync-worker' && s.attributes['linktrace.target'] === 'mysql:user_shop'));
  const afterDeadline = (Math.max(...spans.map((s) => s.startUs + (s.durationUs ?? 0))) + flow.deadlineMs * 1000 + 1);
  const result = evaluateFlow(flow, spans, afterDeadline);
  assert.equal(result.status, 'broken');
  assert.deepEqual(result.steps.map((s) => s.status).slice(0, 2), ['ok', 'missing']);
  assert.equal(result.findings[0]?.message, shown);
});
