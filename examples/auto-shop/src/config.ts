/**
 * Every service of the example reads its settings from the environment, as a deployed service
 * would. The defaults are the local services of a development machine. `AUTO_SHOP_PREFIX` names
 * this run's tables, Redis keys and queue, so that two runs (or two tests) never share them.
 */
export interface ShopConfig {
  port: number;
  host: string;
  postgres: string;
  mysql: string;
  redis: string;
  amqp: string;
  prefix: string;
  /** Base URL of notify-service, for order-worker. */
  notifyUrl: string;
}

export const DEFAULTS = {
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  mysql: 'mysql://root@127.0.0.1:3306/test',
  redis: 'redis://127.0.0.1:6379',
  amqp: 'amqp://guest:guest@127.0.0.1:5672',
  prefix: 'auto_shop',
} as const;

export function readConfig(env: NodeJS.ProcessEnv = process.env): ShopConfig {
  const prefix = env['AUTO_SHOP_PREFIX'] ?? DEFAULTS.prefix;
  // The prefix becomes part of SQL identifiers: only letters, digits and underscores.
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(prefix)) throw new Error(`AUTO_SHOP_PREFIX must be a plain identifier, got ${JSON.stringify(prefix)}`);
  const port = Number(env['PORT'] ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${JSON.stringify(env['PORT'])}`);
  return {
    port,
    host: env['HOST'] ?? '127.0.0.1',
    postgres: env['POSTGRES_URL'] ?? DEFAULTS.postgres,
    mysql: env['MYSQL_URL'] ?? DEFAULTS.mysql,
    redis: env['REDIS_URL'] ?? DEFAULTS.redis,
    amqp: env['AMQP_URL'] ?? DEFAULTS.amqp,
    prefix,
    notifyUrl: env['NOTIFY_URL'] ?? 'http://127.0.0.1:4002',
  };
}

/** Names derived from the prefix, shared by the services and by whoever cleans up after them. */
export function namesOf(prefix: string): { ordersTable: string; shipmentsTable: string; queue: string; cacheKey: (id: number) => string } {
  return {
    ordersTable: `${prefix}_orders`,
    shipmentsTable: `${prefix}_shipments`,
    queue: `${prefix}.orders`,
    cacheKey: (id) => `${prefix}:order:${id}`,
  };
}
