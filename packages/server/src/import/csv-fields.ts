/**
 * One CSV record (RFC 4180 quoting: `"a,b"`, `""` for a quote) per line. Records spanning lines
 * (a quoted newline) are not supported: trace data sets do not have them, and a line-at-a-time
 * reader keeps memory flat on multi-gigabyte files.
 */

/** The fields of `line`, or undefined when a quote is left open. */
export function csvFields(line: string): string[] | undefined {
  if (line.indexOf('"') < 0) return line.split(',');
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return undefined;
        value += line.slice(j, q);
        if (line.charCodeAt(q + 1) === 34) {
          value += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      // Text between the closing quote and the comma is kept, as most readers do.
      const comma = line.indexOf(',', i);
      out.push(comma < 0 ? value + line.slice(i) : value + line.slice(i, comma));
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}
