/**
 * `linktrace query`: the query API (Zipkin v2, Jaeger, native) and the web UI over a shared store,
 * with no receivers and no NATS: stateless, run as many as the readers need.
 */
import { registerQueryRoutes } from '../routes/query-routes.js';
import { registerUiRoutes } from '../ui/ui-routes.js';
import { createRoleApp } from './role-app.js';
import type { RoleOptions } from './role-options.js';
import { openRoleStore, storeHealth } from './role-store.js';
import { closeAll, urlOf, type RoleStart, type RunningRole } from './running-role.js';

export async function startQuery(options: RoleOptions, start: RoleStart = {}): Promise<RunningRole> {
  const warn = start.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const clock = start.clock ?? Date.now;
  const { serve } = options;
  const opened = start.store === undefined ? await openRoleStore(serve, clock, warn, options.role, start.signal) : { store: start.store, port: serve.port };
  const store = opened.store;
  const role = createRoleApp('query', serve, [storeHealth(store)]);
  const { app } = role;
  const closeStore = start.store === undefined ? () => store.close() : () => undefined;
  try {
    await app.register(async (scope) => {
      registerQueryRoutes(scope, { store, now: clock });
      if (serve.uiDir !== false) await registerUiRoutes(scope, { dir: serve.uiDir });
    });
    await app.listen({ port: opened.port, host: serve.host });
  } catch (error) {
    await closeAll([() => app.close(), closeStore]);
    throw error;
  }
  let closing: Promise<void> | undefined;
  return { role: 'query', app, url: urlOf(app), health: role.health, close: () => (closing ??= closeAll([() => app.close(), closeStore])) };
}
