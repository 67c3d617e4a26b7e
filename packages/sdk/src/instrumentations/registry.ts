import type { Instrumentation } from './core/instrumentation.js';
import { amqplibInstrumentation } from './amqplib/index.js';
import { consoleInstrumentation } from './console/index.js';
import { expressInstrumentation } from './express/index.js';
import { fastifyInstrumentation } from './fastify/index.js';
import { fetchInstrumentation } from './fetch/index.js';
import { httpInstrumentation } from './http/index.js';
import { ioredisInstrumentation } from './ioredis/index.js';
import { koaInstrumentation } from './koa/index.js';
import { mysql2Instrumentation } from './mysql2/index.js';
import { natsInstrumentation } from './nats/index.js';
import { pgInstrumentation } from './pg/index.js';
import { pinoInstrumentation } from './pino/index.js';
import { winstonInstrumentation } from './winston/index.js';

/**
 * Every built-in instrumentation by its configuration name (`LINKTRACE_INSTRUMENTATIONS=http,pg`).
 * Each library lives in its own folder with the same shape: `index.ts` exporting a factory
 * `<name>Instrumentation(config?)` that returns an `Instrumentation`.
 */
export const BUILTIN_INSTRUMENTATIONS: Record<string, () => Instrumentation> = {
  amqplib: () => amqplibInstrumentation(),
  express: () => expressInstrumentation(),
  fastify: () => fastifyInstrumentation(),
  fetch: () => fetchInstrumentation(),
  http: () => httpInstrumentation(),
  ioredis: () => ioredisInstrumentation(),
  koa: () => koaInstrumentation(),
  mysql2: () => mysql2Instrumentation(),
  nats: () => natsInstrumentation(),
  pg: () => pgInstrumentation(),
  pino: () => pinoInstrumentation(),
  winston: () => winstonInstrumentation(),
};

/**
 * Instrumentations enabled only when named (`LINKTRACE_INSTRUMENTATIONS=all,console`), never by
 * default: `console` changes what a service prints, which something may parse.
 */
export const OPT_IN_INSTRUMENTATIONS: Record<string, () => Instrumentation> = {
  console: () => consoleInstrumentation(),
};
