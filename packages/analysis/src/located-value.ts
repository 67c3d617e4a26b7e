/** A parsed configuration value with the line where each path starts, for errors that name the line. */
export interface LocatedValue {
  value: unknown;
  /** `flows[1].steps[0].service` → 1-based line. The root is ''. */
  lines: Map<string, number>;
}

/** A refused input: the line (when known) and the reason. */
export class LocatedError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'LocatedError';
  }
}

export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}
