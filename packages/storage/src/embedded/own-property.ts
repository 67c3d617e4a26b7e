/**
 * `obj[key] = value` as an own data property even for the key `__proto__`, which a plain assignment
 * would take as a prototype change (dropping the attribute). Attribute keys come from clients.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
