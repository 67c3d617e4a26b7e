/**
 * JSON parsing that remembers the line of every value, so that a flow file's errors name their line.
 * Strict JSON (RFC 8259); string escapes are decoded by JSON.parse on the string's own slice.
 */
import { LocatedError, childPath } from './located-value.js';
import type { LocatedValue } from './located-value.js';

const MAX_DEPTH = 64;

export function parseJsonLocated(text: string): LocatedValue {
  const lines = new Map<string, number>();
  let pos = 0;
  let line = 1;

  const fail = (reason: string): never => {
    throw new LocatedError(line, reason);
  };
  const skipSpace = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 10) line++;
      else if (c !== 32 && c !== 9 && c !== 13) return;
      pos++;
    }
  };
  const what = (): string => (pos < text.length ? `'${text[pos]}'` : 'end of input');

  const parseString = (): string => {
    const start = pos++;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 34) break;
      if (c === 92) pos++;
      else if (c < 32) fail('control character or line break inside a string');
      pos++;
    }
    if (pos >= text.length) fail('unterminated string');
    pos++;
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      return fail('invalid escape in string');
    }
  };

  const parseValue = (path: string, depth: number): unknown => {
    skipSpace();
    lines.set(path, line);
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    const c = text[pos];
    if (c === '{') {
      pos++;
      const obj: Record<string, unknown> = {};
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        skipSpace();
        if (text[pos] !== '"') fail(`expected a quoted key, found ${what()}`);
        const key = parseString();
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail(`duplicate key "${key}"`);
        skipSpace();
        if (text[pos] !== ':') fail(`expected ':' after key "${key}", found ${what()}`);
        pos++;
        obj[key] = parseValue(childPath(path, key), depth + 1);
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        fail(`expected ',' or '}', found ${what()}`);
      }
    }
    if (c === '[') {
      pos++;
      const arr: unknown[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(childPath(path, arr.length), depth + 1));
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        fail(`expected ',' or ']', found ${what()}`);
      }
    }
    if (c === '"') return parseString();
    const m = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/.exec(text.slice(pos, pos + 400));
    if (m === null) return fail(`unexpected ${what()}`);
    pos += m[0].length;
    return m[0] === 'true' ? true : m[0] === 'false' ? false : m[0] === 'null' ? null : Number(m[0]);
  };

  const value = parseValue('', 0);
  skipSpace();
  if (pos < text.length) fail(`unexpected ${what()} after the end of the document`);
  return { value, lines };
}
