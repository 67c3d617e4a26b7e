/**
 * Assigns `obj[key] = value` as an own data property even when `key` is `__proto__`, which a plain
 * assignment would treat as a prototype change. Decoders store attribute keys chosen by clients.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
