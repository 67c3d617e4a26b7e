/** ClickHouse TabSeparated text: the insert format (cheaper for the server to parse than JSONEachRow). */

// eslint-disable-next-line no-control-regex
const SPECIAL = /[\\\t\n\r\0\x08\x0c']/;
// eslint-disable-next-line no-control-regex
const SPECIAL_G = /[\\\t\n\r\0\x08\x0c']/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', '\b': '\\b', '\f': '\\f', "'": "\\'" };

/** A String field. */
export function tsvString(s: string): string {
  return SPECIAL.test(s) ? s.replace(SPECIAL_G, (c) => ESCAPES[c]!) : s;
}

/** An Array(String) field: `['a','b']`, each element quoted (and escaped as in a quoted literal). */
export function tsvStringArray(items: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) out += (i === 0 ? "'" : ",'") + tsvString(items[i]!) + "'";
  return out + ']';
}

/** A literal for SQL text: `'…'` with quotes and backslashes escaped. */
export function sqlString(s: string): string {
  return `'${tsvString(s)}'`;
}
