/**
 * The store of a role (`--store`), opened as serve opens it: a ClickHouse that cannot be reached is
 * retried with backoff while a stand-in answers `/healthz` with the reason (cli/wait-for-store.ts);
 * one that answers but refuses (credentials, a newer schema) fails the start with its message.
 */
import { ClickHouseError, type SpanStore } from '@linktrace/storage';
import type { ServeOptions } from '../cli/serve.js';
import { openStore } from '../cli/store-url.js';
import { openStoreWithRetry } from '../cli/wait-for-store.js';
import { probeStore } from '../routes/health-check.js';
import type { HealthPart } from './role-app.js';
import type { RoleName } from './role-options.js';

export async function openRoleStore(
  serve: ServeOptions,
  clock: () => number,
  warn: (line: string) => void,
  role: RoleName,
  signal?: AbortSignal,
): Promise<{ store: SpanStore; port: number }> {
  const spec = serve.store!;
  if (spec.kind === 'embedded') return { store: await openStore(spec, { clock }), port: serve.port };
  const ttlDays = serve.retentionMs > 0 ? serve.retentionMs / 86_400_000 : undefined;
  return openStoreWithRetry(() => openStore(spec, { clock, ...(ttlDays !== undefined && { ttlDays }), log: warn }), {
    host: serve.host,
    port: serve.port,
    display: spec.display,
    warn,
    retryable: (error) => error instanceof ClickHouseError && error.unreachable,
    role,
    ...(signal !== undefined && { signal }),
  });
}

/** `/healthz`'s store part: reachable (a cheap probe), and a remote store's own reason when it cannot take writes. */
export function storeHealth(store: SpanStore & { unavailableReason?: () => string | undefined }, lastError: () => string | undefined = () => undefined): HealthPart {
  return {
    name: 'store',
    async check() {
      const problem = store.unavailableReason?.() ?? lastError() ?? (await probeStore(store));
      return problem === undefined ? { detail: { reachable: true } } : { detail: { reachable: false, error: problem }, problem };
    },
  };
}
