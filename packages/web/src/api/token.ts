/**
 * Bearer tokens kept in this browser only: the server's `--token` in localStorage (it reads), the
 * remedy token (`--remedy-token`, it re-runs production steps) in sessionStorage, so it is gone with
 * the tab. Neither ever goes into a URL.
 */

/** A token in one Web Storage key; in memory only when storage is disabled (private mode, policies). */
class StoredToken {
  private memory: string | undefined;
  constructor(
    private readonly key: string,
    private readonly storage: () => Storage,
  ) {}

  read(): string | undefined {
    try {
      const t = this.storage().getItem(this.key);
      return t === null || t === '' ? undefined : t;
    } catch {
      return this.memory;
    }
  }

  save(token: string): void {
    this.memory = token;
    try {
      this.storage().setItem(this.key, token);
    } catch {
      // Kept in memory only.
    }
  }

  clear(): void {
    this.memory = undefined;
    try {
      this.storage().removeItem(this.key);
    } catch {
      // Nothing stored.
    }
  }
}

const token = new StoredToken('linktrace.token', () => localStorage);
const remedyToken = new StoredToken('linktrace.remedyToken', () => sessionStorage);

export const readToken = (): string | undefined => token.read();
export const saveToken = (t: string): void => token.save(t);
export const clearToken = (): void => token.clear();

export const readRemedyToken = (): string | undefined => remedyToken.read();
export const saveRemedyToken = (t: string): void => remedyToken.save(t);
export const clearRemedyToken = (): void => remedyToken.clear();
