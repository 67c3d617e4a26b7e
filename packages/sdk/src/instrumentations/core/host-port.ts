/**
 * Splits `host[:port]` (IPv6 in brackets) into the address and the port, when there is one: one
 * reading of peer addresses for every instrumentation (an HTTP Host header, a NATS server URL).
 */
export function splitHostPort(host: string): { address: string; port: number | undefined } {
  let colon = host.lastIndexOf(':');
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return { address: host, port: undefined };
    colon = host.charCodeAt(close + 1) === 58 ? close + 1 : -1;
    const address = host.slice(1, close);
    return { address, port: colon > 0 ? portNumber(host.slice(colon + 1)) : undefined };
  }
  if (colon < 0 || host.indexOf(':') !== colon) return { address: host, port: undefined };
  return { address: host.slice(0, colon), port: portNumber(host.slice(colon + 1)) };
}

function portNumber(text: string): number | undefined {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}
