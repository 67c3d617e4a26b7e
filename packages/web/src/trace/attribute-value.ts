/** Text for a JSON-safe attribute value (scalars, arrays, `{ bytes }`, `{ double }`). */
export function attributeText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(attributeText).join(', ')}]`;
  if (typeof v === 'object' && v !== null) {
    if ('double' in v) return String((v as { double: unknown }).double);
    if ('bytes' in v) return `bytes ${String((v as { bytes: unknown }).bytes)}`;
  }
  return JSON.stringify(v) ?? '';
}
