/**
 * The model's `instance` is `host:port`; Zipkin endpoints carry an IPv4 or IPv6 address and a port.
 * IPv6 with a port is written `[addr]:port`, as in URLs.
 */

export interface InstanceAddress {
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

/** Dotted quad; loose on purpose (Zipkin clients send forms like `10.0.0.04`, kept verbatim). */
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

/** Loose IPv6 literal check: hex groups and at least two colons, optionally an embedded IPv4 tail. */
export function isIpv6(s: string): boolean {
  if (s.length < 2 || s.length > 45 || s.indexOf(':') === s.lastIndexOf(':')) return false;
  return /^[0-9a-fA-F:]+(:(\d{1,3}\.){3}\d{1,3})?$/.test(s) && s.split('::').length <= 2;
}

function parsePort(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/**
 * Splits an instance into Zipkin endpoint fields, or returns undefined when it has a host that is not
 * an IP literal (the caller then keeps the instance some other way).
 */
export function parseInstance(instance: string): InstanceAddress | undefined {
  if (instance.startsWith('[')) {
    const close = instance.indexOf(']');
    if (close < 0) return undefined;
    const ip = instance.slice(1, close);
    const rest = instance.slice(close + 1);
    if (!isIpv6(ip)) return undefined;
    if (rest === '') return { ipv6: ip };
    const port = rest.startsWith(':') ? parsePort(rest.slice(1)) : undefined;
    return port === undefined ? undefined : { ipv6: ip, port };
  }
  if (isIpv6(instance)) return { ipv6: instance };
  const colon = instance.lastIndexOf(':');
  const host = colon < 0 ? instance : instance.slice(0, colon);
  let port: number | undefined;
  if (colon >= 0) {
    port = parsePort(instance.slice(colon + 1));
    if (port === undefined) return undefined;
  }
  if (host === '') return port === undefined ? undefined : { port };
  if (!isIpv4(host)) return undefined;
  return port === undefined ? { ipv4: host } : { ipv4: host, port };
}

/** Endpoint fields -> instance; undefined when there is neither address nor port. */
export function formatInstance(ipv4: string | undefined, ipv6: string | undefined, port: number | undefined): string | undefined {
  if (ipv4 !== undefined) return port === undefined ? ipv4 : `${ipv4}:${port}`;
  if (ipv6 !== undefined) return port === undefined ? ipv6 : `[${ipv6}]:${port}`;
  return port === undefined ? undefined : `:${port}`;
}
