import { createServer, type Server } from 'node:http';
import { ATTR } from '@linktrace/model';
import { RemedyAgent, stagesFor, type Tracing } from '@linktrace/sdk';
import { createDispatcher, type WorkQueue } from '@linktrace/sync';
import type { ShopStore } from './backends.js';
import { FAULT_HEADER, parseFault } from './faults.js';
import { SHOP_JOB } from './shop-job.js';
import type { RemedySettings } from './sync-worker.js';
import { closeServer, listen, readBody, sendJson, shopIdOf } from './http-util.js';

export interface MerchantApi {
  readonly address: string;
  close(): Promise<void>;
}

/**
 * PUT /shops/:id {"open": boolean}: writes PostgreSQL `shop` (bumping its version), then triggers
 * the shop sync job through the sync toolkit's dispatcher: an event trigger with the new version on
 * `shop-changed`, the trace context in the message headers and any `x-fault` in the trigger's meta.
 */
export async function startMerchantApi(tracing: Tracing, shops: ShopStore, queue: WorkQueue, remedies?: RemedySettings): Promise<MerchantApi> {
  const stages = stagesFor(tracing);
  const dispatcher = createDispatcher({ job: SHOP_JOB, queue, tracing });
  const server: Server = createServer((req, res) => {
    const id = shopIdOf(req.url);
    if (req.method !== 'PUT' || id === undefined) {
      sendJson(res, 404, { error: { code: 'not_found', message: 'use PUT /shops/:id' } });
      return;
    }
    const entity = { type: 'shop', key: id };
    const fault = parseFault(req.headers[FAULT_HEADER]);
    void stages.receive(
      entity,
      async (span) => {
        let open: unknown;
        try {
          open = (JSON.parse(await readBody(req)) as { open?: unknown }).open;
        } catch {
          open = undefined;
        }
        if (typeof open !== 'boolean') {
          stages.skip(entity, 'invalid body');
          sendJson(res, 400, { error: { code: 'bad_request', message: 'body must be {"open": true|false}' } });
          return;
        }
        // The version is known only once PostgreSQL has assigned it.
        const row = await stages.write(entity, 'postgres:shop', async (write) => {
          const saved = await shops.save(id, open);
          write.setAttribute(ATTR.entityVersion, saved.version);
          return saved;
        });
        span.setAttribute(ATTR.entityVersion, row.version);
        await dispatcher.trigger(id, { version: row.version, meta: fault === undefined ? undefined : { [FAULT_HEADER]: fault } });
        sendJson(res, 200, row);
      },
      { headers: req.headers },
    ).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } });
    });
  });
  // Remedy of a change nobody consumed: publish its trigger again, with the shop's current version.
  let agent: RemedyAgent | undefined;
  if (remedies !== undefined) {
    agent = new RemedyAgent({ tracing, ...remedies, warn: () => {} }).register({
      stage: 'enqueue',
      replay: async (r) => {
        const key = r.entity?.key ?? '';
        const row = await shops.get(key);
        if (row === undefined) throw new Error(`shop ${key} is not in the source any more`);
        await dispatcher.trigger(key, { version: row.version });
      },
    });
    agent.start();
  }
  const address = await listen(server);
  return {
    address,
    close: async () => {
      await agent?.stop();
      await closeServer(server);
    },
  };
}
