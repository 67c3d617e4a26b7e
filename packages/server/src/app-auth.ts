import { timingSafeEqual } from 'node:crypto';

/** The bearer-token check every protocol shares (HTTP's `Authorization` header, gRPC's `authorization` metadata). */
export function tokenCheck(token: string): (header: string | undefined) => boolean {
  const expected = Buffer.from(token, 'utf8');
  return (header) => {
    if (header === undefined || header.length !== token.length + 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') return false;
    const given = Buffer.from(header.slice(7), 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
