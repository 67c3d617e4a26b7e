/**
 * A service map from `/api/v1/dependencies` for servers without `/api/v1/service-map`: services
 * only (queues are not told apart there) and no latency.
 */
import type { DependencyLink, DisplayMap } from './types.js';

export function serviceMapFromDependencies(links: readonly DependencyLink[]): DisplayMap {
  const ids = new Set<string>();
  for (const l of links) {
    ids.add(l.parent);
    ids.add(l.child);
  }
  return {
    nodes: [...ids].sort().map((id) => ({ id, kind: 'service' as const, label: id })),
    edges: links.map((l) => ({
      from: l.parent,
      to: l.child,
      callCount: l.callCount,
      errorCount: l.errorCount,
      errorRate: l.callCount === 0 ? 0 : l.errorCount / l.callCount,
    })),
  };
}
