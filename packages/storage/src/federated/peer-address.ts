/**
 * Next-hop pointers (DESIGN §8): the address a client span called, or the queue a producer span
 * published to, written the one way the agent directory keys them. Loopback spellings are folded
 * into `127.0.0.1` so that `localhost:3002` on the caller's side finds the `127.0.0.1:3002` an agent
 * declared; anything else is compared as written (lowercased).
 */
import type { Span } from '@linktrace/model';

export type Pointer = { kind: 'address'; key: string } | { kind: 'queue'; key: string };

/** Longest address or queue name kept; longer ones are not pointers (nothing sane is that long). */
export const MAX_POINTER_LENGTH = 256;

const LOOPBACK = new Set(['localhost', '::1', '[::1]', '0.0.0.0', '::', '[::]', 'ip6-localhost']);

/** A host as the directory keys it. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.startsWith('::ffff:')) h = h.slice(7);
  if (LOOPBACK.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return '127.0.0.1';
  return h;
}

/** `host:port` (or `host:*`) as the directory keys it; undefined for anything unusable. */
export function addressKey(host: string, port: number | string): string | undefined {
  if (host.trim() === '') return undefined;
  const p = typeof port === 'number' ? String(port) : port.trim();
  if (p !== '*' && !(/^\d{1,5}$/.test(p) && Number(p) <= 65535)) return undefined;
  const key = `${normalizeHost(host)}:${p === '*' ? '*' : String(Number(p))}`;
  return key.length <= MAX_POINTER_LENGTH ? key : undefined;
}

/** `host:port` or `[v6]:port` or `host:*` as typed by a user (`--serves`) or sent by an agent. */
export function parseAddress(text: string): string | undefined {
  const t = text.trim();
  const colon = t.lastIndexOf(':');
  if (colon <= 0) return undefined;
  return addressKey(t.slice(0, colon), t.slice(colon + 1));
}

/** The same host with any port: what a per-host agent's `host:*` entry matches. */
export function wildcardOf(key: string): string {
  return `${key.slice(0, key.lastIndexOf(':'))}:*`;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= MAX_POINTER_LENGTH ? value : undefined;
}

function isStoreCall(attributes: Span['attributes']): boolean {
  // Databases and caches also record server.address; they hold no spans, so they are not hops.
  return attributes['db.system'] !== undefined || attributes['db.system.name'] !== undefined || attributes['messaging.system'] !== undefined;
}

/** The peer address of a client span: `server.address`/`server.port`, else the Zipkin remote endpoint. */
function clientAddress(span: Span): string | undefined {
  const a = span.attributes;
  const host = text(a['server.address']);
  const port = a['server.port'];
  if (host !== undefined && (typeof port === 'number' || typeof port === 'string')) return addressKey(host, port);
  const remote = span.remote;
  const remoteHost = remote?.ipv4 ?? remote?.ipv6;
  if (remoteHost !== undefined && remote?.port !== undefined) return addressKey(remoteHost, remote.port);
  return undefined;
}

/**
 * Where the hop after `span` is: the service it called (client span) or the queues it published
 * to (producer span: the destination, and the routing key, which names the queue on a direct
 * exchange). Empty for every other span.
 */
export function pointersOf(span: Span): Pointer[] {
  if (span.kind === 'client') {
    if (isStoreCall(span.attributes)) return [];
    const key = clientAddress(span);
    return key === undefined ? [] : [{ kind: 'address', key }];
  }
  if (span.kind === 'producer') {
    const out: Pointer[] = [];
    const destination = text(span.attributes['messaging.destination.name']);
    if (destination !== undefined) out.push({ kind: 'queue', key: destination });
    const routingKey = text(span.attributes['messaging.rabbitmq.destination.routing_key']);
    if (routingKey !== undefined && routingKey !== destination) out.push({ kind: 'queue', key: routingKey });
    return out;
  }
  return [];
}

/** `pointer` as one string, for display and for keys: `127.0.0.1:3002` or `queue:orders`. */
export function pointerText(pointer: Pointer): string {
  return pointer.kind === 'address' ? pointer.key : `queue:${pointer.key}`;
}
