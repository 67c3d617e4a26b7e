/** Parses the major of a semver string; NaN when there is none. */
export function majorOf(version: string | undefined): number {
  const match = /^(\d+)\./.exec(version ?? '');
  return match === null ? Number.NaN : Number(match[1]);
}

/**
 * Throws (so that `instrument()` logs once and leaves the package untouched) unless the package's
 * major version is one this instrumentation knows.
 */
export function requireMajor(name: string, version: string | undefined, min: number, max: number): void {
  const major = majorOf(version);
  if (!(major >= min && major <= max)) {
    const supported = min === max ? `${min}.x` : `${min}.x–${max}.x`;
    throw new Error(`version ${version ?? 'unknown'} is not supported (supported: ${name} ${supported})`);
  }
}
