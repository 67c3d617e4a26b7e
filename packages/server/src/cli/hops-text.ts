/** The hops of a trace walked by a federated gateway, as lines for `linktrace trace --server <gateway>`. */
import type { TraceView } from '../query/trace-view-types.js';

export function formatHops(view: Pick<TraceView, 'hops' | 'lastHealthyHop' | 'walk'>): string {
  const hops = view.hops;
  if (hops === undefined) return '';
  const lines = [`hops (${hops.length}):`];
  for (const h of hops) {
    const from = h.from === null ? '' : ` <- #${h.from}`;
    const where = h.instance === undefined ? h.service : `${h.service} ${h.instance}`;
    const status = h.status === 'ok' ? `ok, ${h.spans} spans` : h.status.toUpperCase();
    lines.push(`  #${h.index}${from}  ${'  '.repeat(Math.min(h.depth, 20))}${where}  [${status}]  agent ${h.agent ?? '-'}${h.reason === undefined ? '' : `  (${h.reason})`}`);
  }
  const last = view.lastHealthyHop;
  lines.push(`last healthy hop: ${last === null || last === undefined ? 'none' : `#${last.index} ${last.service}${last.instance === undefined ? '' : ` ${last.instance}`}`}`);
  const walk = view.walk;
  if (walk !== undefined) {
    lines.push(`walk: ${walk.mode}, ${walk.agents.length} agents asked in ${walk.rounds} rounds, ${walk.bytes} bytes, ${walk.ms} ms${walk.truncated === undefined ? '' : `, cut short: ${walk.truncated}`}`);
  }
  return `${lines.join('\n')}\n`;
}
