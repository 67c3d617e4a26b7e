/** The bearer token for servers started with --token, kept in this browser only. */
const KEY = 'linktrace.token';

export function readToken(): string | undefined {
  try {
    const t = localStorage.getItem(KEY);
    return t === null || t === '' ? undefined : t;
  } catch {
    // Storage can be disabled (private mode, policies): then the token lives for the page only.
    return memoryToken;
  }
}

let memoryToken: string | undefined;

export function saveToken(token: string): void {
  memoryToken = token;
  try {
    localStorage.setItem(KEY, token);
  } catch {
    // Kept in memory only.
  }
}

export function clearToken(): void {
  memoryToken = undefined;
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing stored.
  }
}
