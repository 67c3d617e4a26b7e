/**
 * The YAML subset accepted for flow files (docs/chain-checks.md): block mappings and sequences
 * indented with spaces, `#` comments, plain / 'single' / "double" quoted scalars, and one-line flow
 * collections (`{ service: a, stage: write }`, `[a, b]`). Anchors, aliases, tags, multi-line
 * scalars and multiple documents are refused with their line, as is anything else outside it.
 */
import { LocatedError, childPath } from './located-value.js';
import type { LocatedValue } from './located-value.js';

interface Line {
  no: number;
  indent: number;
  text: string;
}

const MAX_DEPTH = 64;

function stripComment(s: string, no: number): string {
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote !== '') {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") {
      if (i === 0 || /[\s:,[{-]/.test(s[i - 1]!)) quote = c;
    } else if (c === '#' && (i === 0 || s[i - 1] === ' ')) {
      return s.slice(0, i).trimEnd();
    }
  }
  if (quote !== '') throw new LocatedError(no, 'unterminated quoted string');
  return s.trimEnd();
}

function splitLines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const no = i + 1;
    const r = raw[i]!;
    const indent = r.length - r.trimStart().length;
    if (r.slice(0, indent).includes('\t')) throw new LocatedError(no, 'tab in indentation (use spaces)');
    const body = stripComment(r.slice(indent), no);
    if (body === '') continue;
    if (body === '---' && out.length === 0) continue;
    if (body === '---' || body === '...') throw new LocatedError(no, 'only one document is supported');
    out.push({ no, indent, text: body });
  }
  return out;
}

/** `key: rest` → [key, rest]; undefined when the line is no mapping entry. */
function splitKey(s: string, no: number): [string, string] | undefined {
  let key: string;
  let rest: string;
  if (s[0] === '"' || s[0] === "'") {
    const end = s.indexOf(s[0], 1);
    if (end < 0) throw new LocatedError(no, 'unterminated quoted key');
    key = scalar(s.slice(0, end + 1), no) as string;
    rest = s.slice(end + 1);
    if (!rest.startsWith(':')) return undefined;
    rest = rest.slice(1);
  } else {
    const m = /^([^\s:[\]{},#&*!|>'"%@`][^:]*?)\s*:(?:\s|$)/.exec(s);
    if (m === null) return undefined;
    key = m[1]!;
    rest = s.slice(m[0].length - (m[0].endsWith(' ') ? 1 : 0));
  }
  if (rest !== '' && !rest.startsWith(' ')) return undefined;
  return [key, rest.trim()];
}

function scalar(s: string, no: number): unknown {
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) throw new LocatedError(no, `bad double-quoted string ${s}`);
    try {
      return JSON.parse(s) as string;
    } catch {
      throw new LocatedError(no, `bad escape in ${s}`);
    }
  }
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new LocatedError(no, `bad single-quoted string ${s}`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[&*!|>%@`]/.test(s)) throw new LocatedError(no, `unsupported YAML (anchor, alias, tag or block scalar): ${s}`);
  if (s === 'true' || s === 'True') return true;
  if (s === 'false' || s === 'False') return false;
  if (s === 'null' || s === '~' || s === '') return null;
  if (/^[-+]?(?:0|[1-9][0-9_]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/.test(s)) return Number(s.replace(/_/g, ''));
  return s;
}

/** A one-line flow collection or scalar, recording the line of every path it holds. */
function inline(s: string, no: number, path: string, lines: Map<string, number>): unknown {
  let pos = 0;
  const space = (): void => {
    while (s[pos] === ' ') pos++;
  };
  const value = (p: string, depth: number): unknown => {
    space();
    lines.set(p, no);
    if (depth > MAX_DEPTH) throw new LocatedError(no, `nesting deeper than ${MAX_DEPTH}`);
    const c = s[pos];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      pos++;
      const obj: Record<string, unknown> = {};
      const arr: unknown[] = [];
      space();
      if (s[pos] === close) {
        pos++;
        return c === '{' ? obj : arr;
      }
      for (;;) {
        if (c === '{') {
          space();
          const keyEnd = findEnd(':');
          const key = scalar(s.slice(pos, keyEnd).trim(), no);
          if (typeof key !== 'string' || key === '') throw new LocatedError(no, `bad key in ${s}`);
          if (s[keyEnd] !== ':') throw new LocatedError(no, `expected ':' after "${key}"`);
          if (Object.prototype.hasOwnProperty.call(obj, key)) throw new LocatedError(no, `duplicate key "${key}"`);
          pos = keyEnd + 1;
          obj[key] = value(childPath(p, key), depth + 1);
        } else {
          arr.push(value(childPath(p, arr.length), depth + 1));
        }
        space();
        if (s[pos] === ',') {
          pos++;
          continue;
        }
        if (s[pos] === close) {
          pos++;
          return c === '{' ? obj : arr;
        }
        throw new LocatedError(no, `expected ',' or '${close}' in ${s}`);
      }
    }
    if (c === '"' || c === "'") {
      let end = pos + 1;
      while (end < s.length && s[end] !== c) end += s[end] === '\\' && c === '"' ? 2 : 1;
      const out = scalar(s.slice(pos, end + 1), no);
      pos = end + 1;
      return out;
    }
    const end = findEnd('');
    const out = scalar(s.slice(pos, end).trim(), no);
    pos = end;
    return out;
  };
  // Plain scalars inside a flow collection end at , ] } (and the key at ':').
  const inFlow = s.startsWith('{') || s.startsWith('[');
  const findEnd = (also: string): number => {
    let i = pos;
    while (i < s.length && !(inFlow && (s[i] === ',' || s[i] === ']' || s[i] === '}')) && s[i] !== also) i++;
    return i;
  };
  const v = value(path, 0);
  space();
  if (pos < s.length) throw new LocatedError(no, `unexpected text after the value: ${s.slice(pos)}`);
  return v;
}

export function parseYamlSubset(text: string): LocatedValue {
  const lines = new Map<string, number>();
  const all = splitLines(text);
  let i = 0;

  const isItem = (l: Line): boolean => l.text === '-' || l.text.startsWith('- ');

  const node = (indent: number, path: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new LocatedError(all[i]!.no, `nesting deeper than ${MAX_DEPTH}`);
    const first = all[i]!;
    lines.set(path, first.no);
    if (isItem(first)) return sequence(first.indent, path, depth);
    if (splitKey(first.text, first.no) !== undefined) return mapping(first.indent, path, depth);
    if (first.indent < indent) throw new LocatedError(first.no, 'bad indentation');
    i++;
    return inline(first.text, first.no, path, lines);
  };

  /** The value after `key:` or `-`: inline text, or the indented block below. */
  const after = (rest: string, no: number, parentIndent: number, path: string, depth: number, allowSameIndentItems: boolean): unknown => {
    if (rest !== '') return inline(rest, no, path, lines);
    const next = all[i];
    if (next !== undefined && (next.indent > parentIndent || (allowSameIndentItems && next.indent === parentIndent && isItem(next)))) {
      return node(next.indent, path, depth + 1);
    }
    lines.set(path, no);
    return null;
  };

  const sequence = (indent: number, path: string, depth: number): unknown[] => {
    const out: unknown[] = [];
    while (i < all.length && all[i]!.indent === indent && isItem(all[i]!)) {
      const l = all[i]!;
      const p = childPath(path, out.length);
      const rest = l.text === '-' ? '' : l.text.slice(2).trimStart();
      if (rest !== '' && splitKey(rest, l.no) !== undefined) {
        // `- key: value` opens a mapping whose keys line up with `key`.
        const inner = indent + (l.text.length - rest.length);
        all[i] = { no: l.no, indent: inner, text: rest };
        lines.set(p, l.no);
        out.push(mapping(inner, p, depth + 1));
      } else {
        i++;
        out.push(after(rest, l.no, indent, p, depth, false));
      }
    }
    if (i < all.length && all[i]!.indent > indent) throw new LocatedError(all[i]!.no, 'bad indentation');
    return out;
  };

  const mapping = (indent: number, path: string, depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    while (i < all.length && all[i]!.indent === indent && !isItem(all[i]!)) {
      const l = all[i]!;
      const kv = splitKey(l.text, l.no);
      if (kv === undefined) throw new LocatedError(l.no, `expected 'key: value', found ${l.text}`);
      const [key, rest] = kv;
      if (Object.prototype.hasOwnProperty.call(out, key)) throw new LocatedError(l.no, `duplicate key "${key}"`);
      i++;
      const p = childPath(path, key);
      lines.set(p, l.no);
      out[key] = after(rest, l.no, indent, p, depth, true);
    }
    if (i < all.length && all[i]!.indent > indent) throw new LocatedError(all[i]!.no, 'bad indentation');
    return out;
  };

  if (all.length === 0) return { value: null, lines };
  const value = node(0, '', 0);
  if (i < all.length) throw new LocatedError(all[i]!.no, 'bad indentation or unexpected content');
  return { value, lines };
}
