import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import type { Instrumentation } from '../core/instrumentation.js';
import { unwrap, wrap } from '../core/shim.js';
import { patchBodyHooks } from './body-hooks.js';
import { tracedGet, tracedRequest } from './client.js';
import type { HttpInstrumentationConfig } from './config.js';
import { patchServer } from './server.js';

type Fn = (...args: unknown[]) => unknown;
type RequestFunction = (this: unknown, ...args: unknown[]) => http.ClientRequest;

/**
 * node:http and node:https, server and client. Builtins need no module hook: they are patched
 * when the instrumentation is enabled (named ESM imports follow through `syncBuiltinESMExports`).
 */
export function httpInstrumentation(config: HttpInstrumentationConfig = {}): Instrumentation {
  const patched: { target: object; name: string }[] = [];
  return {
    name: 'http',
    enable(ictx) {
      patchBodyHooks(http, patched);
      if (config.server !== false) {
        if (patchServer(http.Server.prototype, 'http', ictx, config)) patched.push({ target: http.Server.prototype, name: 'emit' });
        if (patchServer(https.Server.prototype, 'https', ictx, config)) patched.push({ target: https.Server.prototype, name: 'emit' });
      }
      if (config.client !== false) {
        for (const mod of [http, https] as const) {
          const target = mod as unknown as Record<string, Fn>;
          let traced: RequestFunction | undefined;
          if (wrap(target, 'request', (original) => (traced = tracedRequest(original as RequestFunction, ictx, config)))) {
            patched.push({ target, name: 'request' });
            if (wrap(target, 'get', () => tracedGet(traced!))) patched.push({ target, name: 'get' });
          }
        }
      }
      syncBuiltinESMExports();
    },
    disable() {
      for (const { target, name } of patched.reverse()) unwrap(target as Record<string, Fn>, name);
      patched.length = 0;
      syncBuiltinESMExports();
    },
  };
}
