/** An entity's version as the source states it: a counter, a timestamp or an opaque comparable string. */
export type Version = number | string;

export function isVersion(value: unknown): value is Version {
  return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length > 0);
}

/**
 * The default order of versions: numbers numerically; strings that are both decimal integers
 * numerically too (a version read back from a header or a text column is a string); other strings
 * by code unit (ISO timestamps and zero-padded counters sort right). A number sorts before a
 * non-numeric string. Negative: `a` is older.
 */
export function compareVersions(a: Version, b: Version): number {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (na !== undefined) return -1;
  if (nb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function numeric(v: Version): number | undefined {
  if (typeof v === 'number') return v;
  return /^-?[0-9]{1,15}$/.test(v) ? Number(v) : undefined;
}
