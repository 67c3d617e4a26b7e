/**
 * The simulated system behind the ingest benchmark's traces: an online shop with a product/stock
 * data-synchronisation side (ERP and warehouse feeds, search indexing, cache invalidation,
 * marketplace listings). 23 services, 37 endpoints (HTTP routes and queue consumers), the calls
 * each endpoint makes, and the databases and queues they use. Written as data so that trace shapes
 * come from a call graph, not from a random tree.
 */

export type EntityType = 'shop' | 'product' | 'order' | 'cart' | 'stock' | 'customer' | 'payment';

export type DbSystem = 'mysql' | 'postgresql' | 'redis' | 'elasticsearch' | 'mongodb';

export interface DbOp {
  system: DbSystem;
  /** `db.name` (the redis index or elasticsearch cluster for those). */
  db: string;
  table: string;
  operation: string;
  /** Templated: values are `?`, as an instrumentation with statement sanitising records it. */
  statement: string;
  write: boolean;
}

export type Step =
  /** An HTTP call to another traced service: a client span, and the callee's server span below it. */
  | { t: 'call'; to: string; repeat?: readonly [number, number]; p?: number }
  | { t: 'db'; op: DbOp; repeat?: readonly [number, number]; p?: number }
  /** A message: a producer span here; each consumer's span starts later, as a child of it. */
  | { t: 'publish'; topic: string; consumers: readonly string[]; p?: number }
  /** A step inside the process; `skip` sometimes makes it a deliberate skip (linktrace.stage=skip). */
  | { t: 'process'; name: string; fn: string; skip?: number; p?: number }
  /** An HTTP call to a peer that is not traced (payment provider, marketplace, mail API). */
  | { t: 'external'; peer: string; method: string; path: string; p?: number };

export interface Endpoint {
  service: string;
  /** HTTP server endpoints have a method and route; consumers a topic and group. */
  method?: string;
  route?: string;
  topic?: string;
  entity: EntityType;
  /** Time spent in the handler itself, median ms. */
  selfMs: number;
  steps: readonly Step[];
}

const q = (system: DbSystem, db: string, table: string, operation: string, statement: string, write = false): DbOp => ({
  system,
  db,
  table,
  operation,
  statement,
  write,
});

const DB = {
  productCache: q('redis', '0', 'product', 'GET', 'GET product:?:?'),
  productCacheDel: q('redis', '0', 'product', 'DEL', 'DEL product:? product:?:?', true),
  session: q('redis', '1', 'session', 'GET', 'GET session:?'),
  feedVersion: q('redis', '3', 'feed_version', 'GET', 'GET feed:version:?:?'),
  cartGet: q('redis', '2', 'cart', 'HGETALL', 'HGETALL cart:?'),
  cartSet: q('redis', '2', 'cart', 'HSET', 'HSET cart:? ? ?', true),
  priceCache: q('redis', '0', 'price', 'MGET', 'MGET price:?:? price:?:?'),
  promoCache: q('redis', '0', 'promotion', 'SMEMBERS', 'SMEMBERS promotions:active:?'),
  productRow: q('mysql', 'shop', 'products', 'SELECT', 'SELECT id, shop_id, title, status, updated_at FROM products WHERE shop_id = ? AND id = ?'),
  variantRows: q('mysql', 'shop', 'product_variants', 'SELECT', 'SELECT id, sku, option1, option2, weight_g FROM product_variants WHERE product_id = ?'),
  productBatch: q('mysql', 'shop', 'products', 'SELECT', 'SELECT id, title, status FROM products WHERE shop_id = ? AND id IN (?, ?, ?, ?)'),
  productUpdate: q('mysql', 'shop', 'products', 'UPDATE', 'UPDATE products SET title = ?, status = ?, version = ?, updated_at = ? WHERE id = ? AND version < ?', true),
  shopUpdate: q('mysql', 'shop', 'shops', 'UPDATE', 'UPDATE shops SET name = ?, currency = ?, settings = ?, version = ? WHERE id = ?', true),
  orderInsert: q('mysql', 'shop', 'orders', 'INSERT', 'INSERT INTO orders (id, shop_id, customer_id, total_cents, currency, status) VALUES (?, ?, ?, ?, ?, ?)', true),
  orderItemsInsert: q('mysql', 'shop', 'order_items', 'INSERT', 'INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', true),
  orderRow: q('mysql', 'shop', 'orders', 'SELECT', 'SELECT id, status, total_cents, created_at FROM orders WHERE shop_id = ? AND id = ?'),
  orderItems: q('mysql', 'shop', 'order_items', 'SELECT', 'SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = ?'),
  customerRow: q('mysql', 'shop', 'customers', 'SELECT', 'SELECT id, email, locale FROM customers WHERE id = ?'),
  webhooks: q('mysql', 'shop', 'webhooks', 'SELECT', 'SELECT id, url, secret FROM webhooks WHERE shop_id = ? AND topic = ?'),
  priceRows: q('postgresql', 'pricing', 'prices', 'SELECT', 'SELECT product_id, amount_cents, currency FROM prices WHERE shop_id = $1 AND product_id = ANY($2)'),
  stockRow: q('postgresql', 'inventory', 'stock_levels', 'SELECT', 'SELECT warehouse_id, on_hand, reserved FROM stock_levels WHERE sku = $1'),
  stockUpdate: q('postgresql', 'inventory', 'stock_levels', 'UPDATE', 'UPDATE stock_levels SET on_hand = $1, version = $2 WHERE sku = $3 AND warehouse_id = $4', true),
  reserve: q('postgresql', 'inventory', 'reservations', 'INSERT', 'INSERT INTO reservations (order_ref, sku, quantity, expires_at) VALUES ($1, $2, $3, $4)', true),
  paymentInsert: q('postgresql', 'payments', 'payments', 'INSERT', 'INSERT INTO payments (id, order_ref, amount_cents, status) VALUES ($1, $2, $3, $4)', true),
  paymentUpdate: q('postgresql', 'payments', 'payments', 'UPDATE', 'UPDATE payments SET status = $1, psp_ref = $2 WHERE id = $3', true),
  shipmentInsert: q('postgresql', 'shipping', 'shipments', 'INSERT', 'INSERT INTO shipments (order_id, carrier, status) VALUES ($1, $2, $3)', true),
  recoFind: q('mongodb', 'reco', 'similar_products', 'find', '{"find":"similar_products","filter":{"productId":"?"},"limit":"?"}'),
  auditInsert: q('mongodb', 'audit', 'events', 'insert', '{"insert":"events","documents":"?"}', true),
  searchQuery: q('elasticsearch', 'search-prod', 'products', 'search', 'POST /products-*/_search {"query":{"bool":{"must":"?","filter":"?"}}}'),
  searchIndex: q('elasticsearch', 'search-prod', 'products', 'index', 'PUT /products-v7/_doc/?', true),
} as const;

/** Endpoint id -> endpoint. Ids are `<service short name>.<handler>`. */
export const ENDPOINTS: Readonly<Record<string, Endpoint>> = {
  // Storefront traffic through the gateway.
  'gw.product': {
    service: 'api-gateway', method: 'GET', route: '/api/shops/:shopId/products/:productId', entity: 'product', selfMs: 0.4,
    steps: [{ t: 'call', to: 'catalog.get' }, { t: 'call', to: 'pricing.get' }, { t: 'call', to: 'inventory.get', p: 0.8 }, { t: 'call', to: 'reco.get', p: 0.6 }],
  },
  'gw.search': {
    service: 'api-gateway', method: 'GET', route: '/api/shops/:shopId/search', entity: 'product', selfMs: 0.4,
    steps: [{ t: 'call', to: 'search.query' }, { t: 'call', to: 'catalog.batch' }, { t: 'call', to: 'pricing.get', p: 0.7 }],
  },
  'gw.cartAdd': {
    service: 'api-gateway', method: 'POST', route: '/api/shops/:shopId/cart/items', entity: 'cart', selfMs: 0.4,
    steps: [{ t: 'call', to: 'auth.verify' }, { t: 'call', to: 'cart.add' }],
  },
  'gw.checkout': {
    service: 'api-gateway', method: 'POST', route: '/api/shops/:shopId/checkout', entity: 'order', selfMs: 0.5,
    steps: [{ t: 'call', to: 'auth.verify' }, { t: 'call', to: 'checkout.create' }],
  },
  'gw.orderGet': {
    service: 'api-gateway', method: 'GET', route: '/api/shops/:shopId/orders/:orderId', entity: 'order', selfMs: 0.4,
    steps: [{ t: 'call', to: 'auth.verify' }, { t: 'call', to: 'order.get' }, { t: 'call', to: 'customer.get', p: 0.5 }],
  },
  'gw.shopUpdate': {
    service: 'api-gateway', method: 'PUT', route: '/api/shops/:shopId', entity: 'shop', selfMs: 0.5,
    steps: [{ t: 'call', to: 'auth.verify' }, { t: 'call', to: 'shop.update' }],
  },
  'auth.verify': { service: 'auth-service', method: 'POST', route: '/v1/tokens/verify', entity: 'customer', selfMs: 0.3, steps: [{ t: 'db', op: DB.session }] },
  'catalog.get': {
    service: 'catalog-service', method: 'GET', route: '/products/:productId', entity: 'product', selfMs: 0.6,
    steps: [{ t: 'db', op: DB.productCache }, { t: 'db', op: DB.productRow, p: 0.4 }, { t: 'db', op: DB.variantRows, p: 0.4 }],
  },
  'catalog.batch': {
    service: 'catalog-service', method: 'POST', route: '/products/batch-get', entity: 'product', selfMs: 0.8,
    steps: [{ t: 'db', op: DB.productBatch, repeat: [1, 4] }],
  },
  'catalog.update': {
    service: 'catalog-service', method: 'PUT', route: '/products/:productId', entity: 'product', selfMs: 0.8,
    steps: [
      { t: 'db', op: DB.productRow },
      { t: 'db', op: DB.productUpdate },
      { t: 'db', op: DB.productCacheDel },
      { t: 'publish', topic: 'product.updated', consumers: ['indexer.product', 'cache.product', 'market.product'] },
    ],
  },
  'pricing.get': {
    service: 'pricing-service', method: 'GET', route: '/prices', entity: 'product', selfMs: 0.5,
    steps: [{ t: 'db', op: DB.priceCache }, { t: 'db', op: DB.priceRows, p: 0.3 }, { t: 'call', to: 'promo.active', p: 0.5 }, { t: 'process', name: 'apply promotions', fn: 'applyPromotions' }],
  },
  'promo.active': { service: 'promotion-service', method: 'GET', route: '/promotions/active', entity: 'shop', selfMs: 0.3, steps: [{ t: 'db', op: DB.promoCache }] },
  'inventory.get': { service: 'inventory-service', method: 'GET', route: '/stock/:sku', entity: 'stock', selfMs: 0.4, steps: [{ t: 'db', op: DB.stockRow }] },
  'inventory.reserve': {
    service: 'inventory-service', method: 'POST', route: '/reservations', entity: 'stock', selfMs: 0.6,
    steps: [{ t: 'db', op: DB.stockRow }, { t: 'db', op: DB.reserve, repeat: [1, 2] }],
  },
  'inventory.adjust': {
    service: 'inventory-service', method: 'PUT', route: '/stock/:sku', entity: 'stock', selfMs: 0.6,
    steps: [{ t: 'db', op: DB.stockRow }, { t: 'db', op: DB.stockUpdate }, { t: 'publish', topic: 'stock.changed', consumers: ['market.stock', 'cache.stock'] }],
  },
  'reco.get': { service: 'recommendation-service', method: 'GET', route: '/recommendations/:productId', entity: 'product', selfMs: 1.2, steps: [{ t: 'db', op: DB.recoFind }] },
  'search.query': {
    service: 'search-service', method: 'POST', route: '/search', entity: 'product', selfMs: 0.7,
    steps: [{ t: 'db', op: DB.searchQuery }, { t: 'process', name: 'rank results', fn: 'rankResults' }],
  },
  'cart.add': {
    service: 'cart-service', method: 'POST', route: '/carts/:cartId/items', entity: 'cart', selfMs: 0.5,
    steps: [{ t: 'db', op: DB.cartGet }, { t: 'call', to: 'inventory.get', p: 0.7 }, { t: 'call', to: 'pricing.get' }, { t: 'db', op: DB.cartSet }],
  },
  'cart.get': { service: 'cart-service', method: 'GET', route: '/carts/:cartId', entity: 'cart', selfMs: 0.3, steps: [{ t: 'db', op: DB.cartGet }] },
  'checkout.create': {
    service: 'checkout-service', method: 'POST', route: '/checkouts', entity: 'order', selfMs: 1.0,
    steps: [
      { t: 'call', to: 'cart.get' },
      { t: 'call', to: 'inventory.reserve' },
      { t: 'call', to: 'payment.authorize' },
      { t: 'call', to: 'order.create' },
    ],
  },
  'payment.authorize': {
    service: 'payment-service', method: 'POST', route: '/payments/authorize', entity: 'payment', selfMs: 0.8,
    steps: [{ t: 'db', op: DB.paymentInsert }, { t: 'external', peer: 'api.psp.example', method: 'POST', path: '/v1/charges' }, { t: 'db', op: DB.paymentUpdate, p: 0.5 }],
  },
  'order.create': {
    service: 'order-service', method: 'POST', route: '/orders', entity: 'order', selfMs: 0.9,
    steps: [
      { t: 'db', op: DB.orderInsert },
      { t: 'db', op: DB.orderItemsInsert },
      { t: 'publish', topic: 'order.created', consumers: ['notify.order', 'shipping.order'] },
    ],
  },
  'order.get': { service: 'order-service', method: 'GET', route: '/orders/:orderId', entity: 'order', selfMs: 0.4, steps: [{ t: 'db', op: DB.orderRow }, { t: 'db', op: DB.orderItems }] },
  'customer.get': { service: 'customer-service', method: 'GET', route: '/customers/:customerId', entity: 'customer', selfMs: 0.3, steps: [{ t: 'db', op: DB.customerRow }] },
  'shop.update': {
    service: 'shop-service', method: 'PUT', route: '/shops/:shopId', entity: 'shop', selfMs: 0.7,
    steps: [{ t: 'db', op: DB.shopUpdate }, { t: 'publish', topic: 'shop.updated', consumers: ['webhook.shop', 'cache.shop', 'audit.shop'] }],
  },
  // Data-sync feeds: an ERP product change and a warehouse stock adjustment, read from queues.
  'erp.product': {
    service: 'erp-connector', topic: 'erp.product.changed', entity: 'product', selfMs: 0.6,
    steps: [{ t: 'db', op: DB.feedVersion }, { t: 'process', name: 'map erp record', fn: 'mapErpProduct' }, { t: 'call', to: 'catalog.update' }],
  },
  'wms.stock': {
    service: 'warehouse-sync', topic: 'wms.stock.adjusted', entity: 'stock', selfMs: 0.5,
    steps: [{ t: 'db', op: DB.feedVersion }, { t: 'process', name: 'reconcile stock', fn: 'reconcileStock' }, { t: 'call', to: 'inventory.adjust' }],
  },
  'indexer.product': {
    service: 'search-indexer', topic: 'product.updated', entity: 'product', selfMs: 0.5,
    steps: [{ t: 'call', to: 'catalog.get' }, { t: 'process', name: 'build search document', fn: 'buildDocument', skip: 0.05 }, { t: 'db', op: DB.searchIndex }],
  },
  'cache.product': { service: 'cache-invalidator', topic: 'product.updated', entity: 'product', selfMs: 0.2, steps: [{ t: 'db', op: DB.productCacheDel }] },
  'cache.stock': { service: 'cache-invalidator', topic: 'stock.changed', entity: 'stock', selfMs: 0.2, steps: [{ t: 'db', op: DB.productCacheDel }] },
  'cache.shop': { service: 'cache-invalidator', topic: 'shop.updated', entity: 'shop', selfMs: 0.2, steps: [{ t: 'db', op: DB.productCacheDel }] },
  'market.product': {
    service: 'marketplace-sync', topic: 'product.updated', entity: 'product', selfMs: 0.6,
    steps: [{ t: 'process', name: 'map listing', fn: 'mapListing', skip: 0.2 }, { t: 'external', peer: 'api.marketplace.example', method: 'PUT', path: '/v2/listings/?' }],
  },
  'market.stock': {
    service: 'marketplace-sync', topic: 'stock.changed', entity: 'stock', selfMs: 0.4,
    steps: [{ t: 'external', peer: 'api.marketplace.example', method: 'PATCH', path: '/v2/inventory/?' }],
  },
  'notify.order': {
    service: 'notification-service', topic: 'order.created', entity: 'order', selfMs: 0.5,
    steps: [{ t: 'db', op: DB.customerRow }, { t: 'process', name: 'render email', fn: 'renderOrderConfirmation' }, { t: 'external', peer: 'api.mailer.example', method: 'POST', path: '/v3/mail/send' }],
  },
  'shipping.order': { service: 'shipping-service', topic: 'order.created', entity: 'order', selfMs: 0.5, steps: [{ t: 'db', op: DB.shipmentInsert }] },
  'audit.shop': { service: 'audit-service', topic: 'shop.updated', entity: 'shop', selfMs: 0.2, steps: [{ t: 'db', op: DB.auditInsert }] },
  'webhook.shop': {
    service: 'webhook-dispatcher', topic: 'shop.updated', entity: 'shop', selfMs: 0.4,
    steps: [{ t: 'db', op: DB.webhooks }, { t: 'external', peer: 'hooks.merchant.example', method: 'POST', path: '/linktrace/shop-updated' }],
  },
};

/** Where traces start, with their share of the traffic. */
export const ENTRY_POINTS: readonly (readonly [string, number])[] = [
  ['gw.product', 0.28],
  ['gw.search', 0.14],
  ['gw.cartAdd', 0.12],
  ['gw.checkout', 0.07],
  ['gw.orderGet', 0.08],
  ['gw.shopUpdate', 0.03],
  ['erp.product', 0.16],
  ['wms.stock', 0.12],
];

/** Every service named by an endpoint, in a fixed order. */
export const SERVICES: readonly string[] = [...new Set(Object.values(ENDPOINTS).map((e) => e.service))];

/** Instances per service: pods behind one name, each with its own address and resource. */
export const INSTANCES_PER_SERVICE = 3;
