import { createServer, type Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { stagesFor, type Tracing } from '@linktrace/sdk';
import type { ShopRow } from './backends.js';
import { FAULT_HEADER, parseFault } from './faults.js';
import { closeServer, listen, readBody, sendJson } from './http-util.js';

/** How long the `slow-downstream` fault holds a notification at shop-query (ms). */
export const DEFAULT_SLOW_MS = 1500;

export interface ShopQuery {
  readonly address: string;
  /** The in-memory copy (read-only view for tests). */
  readonly shops: ReadonlyMap<string, ShopRow>;
  close(): Promise<void>;
}

const CHANGED = /^\/shops\/([A-Za-z0-9_-]{1,64})\/changed$/;
const GET = /^\/shops\/([A-Za-z0-9_-]{1,64})$/;

/**
 * POST /shops/:id/changed (from a sync-worker) updates the in-memory copy; GET /shops/:id reads it
 * (404 when unknown). An older version never replaces a newer one.
 */
export async function startShopQuery(tracing: Tracing, slowMs = DEFAULT_SLOW_MS): Promise<ShopQuery> {
  const stages = stagesFor(tracing);
  const shops = new Map<string, ShopRow>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const get = req.method === 'GET' ? GET.exec(path) : null;
    if (get !== null) {
      const row = shops.get(get[1]!);
      if (row === undefined) sendJson(res, 404, { error: { code: 'not_found', message: `no shop ${get[1]}` } });
      else sendJson(res, 200, row);
      return;
    }
    const changed = req.method === 'POST' ? CHANGED.exec(path) : null;
    if (changed === null) {
      sendJson(res, 404, { error: { code: 'not_found', message: 'use GET /shops/:id or POST /shops/:id/changed' } });
      return;
    }
    const id = changed[1]!;
    const fault = parseFault(req.headers[FAULT_HEADER]);
    void readBody(req)
      .then(async (text) => {
        const row = parseRow(text, id);
        const entity = { type: 'shop', key: id, version: row?.version };
        await stages.receive(
          entity,
          async () => {
            if (row === undefined) {
              stages.skip(entity, 'invalid body');
              sendJson(res, 400, { error: { code: 'bad_request', message: 'body must be {"id","open","version"}' } });
              return;
            }
            if (fault === 'slow-downstream') await delay(slowMs);
            const held = shops.get(id);
            if (held !== undefined && held.version >= row.version) {
              stages.skip(entity, 'stale version');
            } else {
              stages.write(entity, 'memory:shop_copy', () => shops.set(id, row));
            }
            res.writeHead(204).end();
          },
          { headers: req.headers },
        );
      })
      .catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } });
      });
  });
  const address = await listen(server);
  return { address, shops, close: () => closeServer(server) };
}

function parseRow(text: string, id: string): ShopRow | undefined {
  try {
    const v = JSON.parse(text) as Partial<ShopRow>;
    if (v.id === id && typeof v.open === 'boolean' && typeof v.version === 'number' && Number.isInteger(v.version) && v.version > 0) {
      return { id, open: v.open, version: v.version };
    }
  } catch {
    // fall through: malformed JSON is a bad request like any other invalid body
  }
  return undefined;
}
