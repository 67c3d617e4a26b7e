/** Key fragments whose attribute values never leave the process (matched case-insensitively). */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'authorization',
  'api_key',
  'apikey',
  'api-key',
  'cookie',
  'private_key',
  'credential',
  'session_id',
  'ssn',
  'credit_card',
  'card_number',
];

export const REDACTED = '[REDACTED]';

/**
 * Decides per attribute key whether its value is sensitive. Keys are nearly always constant strings,
 * so the answer is memoised per key (bounded, so that generated keys cannot grow it forever).
 */
export class Redactor {
  private readonly fragments: string[];
  private readonly cache = new Map<string, boolean>();
  private static readonly CACHE_LIMIT = 4096;

  constructor(sensitiveKeys: readonly string[]) {
    this.fragments = sensitiveKeys.map((k) => k.toLowerCase()).filter((k) => k.length > 0);
  }

  isSensitive(key: string): boolean {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const lower = key.toLowerCase();
    let sensitive = false;
    for (const fragment of this.fragments) {
      if (lower.includes(fragment)) {
        sensitive = true;
        break;
      }
    }
    if (this.cache.size >= Redactor.CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, sensitive);
    return sensitive;
  }
}
