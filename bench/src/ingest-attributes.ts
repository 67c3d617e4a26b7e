/**
 * The ten attributes of each generated span, by what the span is (an HTTP handler, a call, a query,
 * a message, a processing step). Names follow the OpenTelemetry conventions the task names
 * (`http.method`, `http.route`, `http.status_code`, `db.system`, `db.statement`, …) plus the
 * Linktrace chain attributes (DESIGN §3) on the spans that take part in a data-sync chain.
 * Value cardinalities are those of a real shop: tens of thousands of shops (a few big), hundreds
 * of thousands of users, millions of products; ids such as message ids are unique per span.
 */
import { ATTR, type Attributes } from '@linktrace/model';
import type { DbOp, DbSystem, Endpoint, EntityType } from './ingest-catalog.js';
import type { Random } from './ingest-random.js';

export const SHOPS = 20_000;
export const USERS = 800_000;
export const PRODUCTS = 3_000_000;

/** The business values one trace is about. */
export interface TraceValues {
  shopId: number;
  userId: string;
  productId: number;
  sku: string;
  orderId: string;
  cartId: string;
  paymentId: string;
  version: number;
}

export function traceValues(r: Random, orderSeq: number): TraceValues {
  const productId = r.int(1, PRODUCTS);
  return {
    shopId: r.skewed(SHOPS),
    userId: `u_${r.int(1, USERS)}`,
    productId,
    sku: `SKU-${productId}-${r.int(1, 4)}`,
    orderId: `ord_${orderSeq}`,
    cartId: `c_${r.hex(12)}`,
    paymentId: `pay_${r.hex(16)}`,
    version: r.int(1, 500),
  };
}

export function entityKey(type: EntityType, v: TraceValues): string {
  switch (type) {
    case 'shop':
      return String(v.shopId);
    case 'product':
      return String(v.productId);
    case 'order':
      return v.orderId;
    case 'cart':
      return v.cartId;
    case 'stock':
      return v.sku;
    case 'customer':
      return v.userId;
    case 'payment':
      return v.paymentId;
  }
}

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'ShopApp/4.12.1 (iOS 17.4; iPhone15,2)',
  'ShopApp/4.12.0 (Android 14; SM-S918B)',
  'okhttp/4.12.0',
];

/** The route with its parameters filled in, as the request's path. */
export function routePath(route: string, v: TraceValues): string {
  return route
    .replace(':shopId', String(v.shopId))
    .replace(':productId', String(v.productId))
    .replace(':orderId', v.orderId)
    .replace(':cartId', v.cartId)
    .replace(':customerId', v.userId)
    .replace(':sku', v.sku);
}

const STORE_SCHEME: Record<DbSystem, string> = { mysql: 'mysql', postgresql: 'postgres', redis: 'redis', elasticsearch: 'elasticsearch', mongodb: 'mongo' };
const DB_HOST: Record<DbSystem, string> = {
  mysql: 'mysql-shop-primary.db.internal',
  postgresql: 'pg-commerce.db.internal',
  redis: 'redis-cache.db.internal',
  elasticsearch: 'es-search.db.internal',
  mongodb: 'mongo-rs0.db.internal',
};
const DB_PORT: Record<DbSystem, number> = { mysql: 3306, postgresql: 5432, redis: 6379, elasticsearch: 9200, mongodb: 27017 };

/** Stage and entity attributes of a span in a data-sync chain (four of the ten). */
function chain(a: Attributes, stage: string, type: EntityType, v: TraceValues): void {
  a[ATTR.stage] = stage;
  a[ATTR.entityType] = type;
  a[ATTR.entityKey] = entityKey(type, v);
}

/** A handler that only reads (no chain attributes). */
export function readServerAttributes(ep: Endpoint, status: number, v: TraceValues, r: Random): Attributes {
  return {
    'http.method': ep.method!,
    'http.route': ep.route!,
    'http.status_code': status,
    'http.target': routePath(ep.route!, v),
    // Behind the gateway, callers are other services (Node's built-in fetch).
    'user_agent.original': ep.service === 'api-gateway' ? r.pick(USER_AGENTS) : 'node',
    'client.address': `10.20.${r.int(0, 15)}.${r.int(2, 254)}`,
    'user.id': v.userId,
    'shop.id': v.shopId,
    'http.response_content_length': r.int(180, 48_000),
    'server.port': 8080,
  };
}

/** A handler that writes: the `receive` of a chain. */
export function receiveServerAttributes(ep: Endpoint, status: number, v: TraceValues): Attributes {
  const a: Attributes = {
    'http.method': ep.method!,
    'http.route': ep.route!,
    'http.status_code': status,
    'http.target': routePath(ep.route!, v),
    'user.id': v.userId,
    'shop.id': v.shopId,
  };
  chain(a, 'receive', ep.entity, v);
  a[ATTR.entityVersion] = v.version;
  return a;
}

export function consumerAttributes(ep: Endpoint, v: TraceValues, r: Random): Attributes {
  const a: Attributes = {
    'messaging.system': 'kafka',
    'messaging.destination.name': ep.topic!,
    'messaging.operation': 'process',
    'messaging.message.id': r.hex(32),
    'messaging.consumer.group.name': ep.service,
    'shop.id': v.shopId,
  };
  chain(a, 'receive', ep.entity, v);
  a[ATTR.entityVersion] = v.version;
  return a;
}

/** A call to a traced service; a call to a handler that writes is a chain `write` to `http:<service>`. */
export function clientAttributes(callee: Endpoint, writes: boolean, status: number, v: TraceValues, r: Random): Attributes {
  const a: Attributes = {
    'http.method': callee.method!,
    'http.url': `http://${callee.service}:8080${routePath(callee.route!, v)}`,
    'http.status_code': status,
    'server.address': callee.service,
    'peer.service': callee.service,
    'shop.id': v.shopId,
  };
  if (writes) {
    chain(a, 'write', callee.entity, v);
    a[ATTR.target] = `http:${callee.service}`;
  } else {
    a['user.id'] = v.userId;
    a['server.port'] = 8080;
    a['http.response_content_length'] = r.int(120, 32_000);
    a['network.protocol.version'] = '1.1';
  }
  return a;
}

/** A call to a peer outside the traced system; all of ours write (charge, listing, mail, webhook). */
export function externalAttributes(peer: string, method: string, path: string, status: number, type: EntityType, v: TraceValues): Attributes {
  const a: Attributes = {
    'http.method': method,
    'http.url': `https://${peer}${path.replace('?', entityKey(type, v))}`,
    'http.status_code': status,
    'server.address': peer,
    'server.port': 443,
    'shop.id': v.shopId,
  };
  chain(a, 'write', type, v);
  // Not `https:`: that scheme expects a traced receive downstream (DESIGN §3), and this peer is not traced.
  a[ATTR.target] = `external:${peer}`;
  return a;
}

export function dbAttributes(op: DbOp, type: EntityType, v: TraceValues, r: Random): Attributes {
  const a: Attributes = {
    'db.system': op.system,
    'db.name': op.db,
    'db.operation': op.operation,
    'db.statement': op.statement,
    'server.address': DB_HOST[op.system],
    'shop.id': v.shopId,
  };
  if (op.write) {
    chain(a, 'write', type, v);
    a[ATTR.target] = `${STORE_SCHEME[op.system]}:${/^\d+$/.test(op.db) ? op.table : `${op.db}.${op.table}`}`;
  } else {
    a['db.sql.table'] = op.table;
    a['server.port'] = DB_PORT[op.system];
    a['db.user'] = op.system === 'redis' ? 'default' : `${op.db}_app`;
    a['db.response.returned_rows'] = r.int(0, 40);
  }
  return a;
}

export function producerAttributes(topic: string, type: EntityType, v: TraceValues, r: Random): Attributes {
  const a: Attributes = {
    'messaging.system': 'kafka',
    'messaging.destination.name': topic,
    'messaging.operation': 'publish',
    'messaging.message.id': r.hex(32),
    'messaging.kafka.destination.partition': r.int(0, 11),
    'shop.id': v.shopId,
  };
  chain(a, 'enqueue', type, v);
  a[ATTR.target] = `mq:${topic}`;
  return a;
}

const SKIP_REASONS = ['unchanged since last sync', 'product not listed on marketplace', 'older version than stored', 'shop sync paused'];
const CHANGED_FIELDS = ['price', 'stock', 'title', 'title,description', 'price,compare_at_price', 'status', 'images', 'variants'];

export function processAttributes(fn: string, service: string, skipped: boolean, type: EntityType, v: TraceValues, r: Random): Attributes {
  const a: Attributes = {
    'code.function': fn,
    'code.namespace': `${service}.handlers`,
    'shop.id': v.shopId,
  };
  chain(a, skipped ? 'skip' : 'process', type, v);
  a[ATTR.entityVersion] = v.version;
  a['sync.source'] = service === 'warehouse-sync' ? 'wms' : 'erp';
  a['sync.changed_fields'] = r.pick(CHANGED_FIELDS);
  if (skipped) a[ATTR.skipReason] = r.pick(SKIP_REASONS);
  else a['sync.attempt'] = r.chance(0.97) ? 1 : 2;
  return a;
}
