/**
 * The clock a span was timed with: the host part of its instance (`host:port`, `[v6]:port`, bare
 * IPv4 or IPv6), or its service name when it has no instance. Two services on one host share a clock.
 */
import type { Span } from '@linktrace/model';

export function spanHost(span: Span): string {
  const instance = span.instance;
  if (instance === undefined || instance === '') return `service:${span.service}`;
  if (instance.startsWith('[')) {
    const close = instance.indexOf(']');
    return close > 0 ? instance.slice(1, close) : instance;
  }
  const colon = instance.indexOf(':');
  // More than one colon and no brackets: a bare IPv6 address, no port.
  if (colon < 0 || instance.indexOf(':', colon + 1) >= 0) return instance;
  return instance.slice(0, colon);
}
