/**
 * Reduces a SQL statement to its shape: every literal (string, number, hex, bit, boolean,
 * dollar-quoted) becomes `?`, an `IN (…)` list of literals becomes `IN (?)`, comment contents
 * become a `?` block comment. Identifiers, keywords, operators and placeholders (`?`, `$1`, `:name`) are kept, so
 * statements that differ only in their values sanitise to the same text. One pass, no regex
 * backtracking, never throws: garbage in gives bounded garbage out without any literal in it.
 */
export interface SqlDialect {
  /** MySQL/MariaDB: `\'` escapes inside quotes; PostgreSQL: only inside `E'…'`. */
  readonly backslashEscapes: boolean;
  /** MySQL/MariaDB (default sql_mode): `"…"` is a string; PostgreSQL: an identifier. */
  readonly doubleQuotedStrings: boolean;
  /** MySQL/MariaDB: `# comment`; PostgreSQL: `#` is an operator. */
  readonly hashComments: boolean;
}

export const POSTGRES_DIALECT: SqlDialect = { backslashEscapes: false, doubleQuotedStrings: false, hashComments: false };
export const MYSQL_DIALECT: SqlDialect = { backslashEscapes: true, doubleQuotedStrings: true, hashComments: true };

/** Output longer than this is cut and ends with `…`. */
export const MAX_SANITIZED_LENGTH = 2048;

type TokenType = 'space' | 'word' | 'ident' | 'literal' | 'placeholder' | 'comment' | 'punct';

interface Token {
  type: TokenType;
  text: string;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
const SPACE = /\s/;

/** Splits `sql` into tokens; stops once about `budget` characters of output would be produced. */
function tokenize(sql: string, dialect: SqlDialect, budget: number): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  let produced = 0;
  const push = (type: TokenType, text: string): void => {
    tokens.push({ type, text });
    produced += type === 'literal' ? 1 : text.length;
  };
  while (i < n && produced <= budget) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (SPACE.test(c)) {
      let j = i + 1;
      while (j < n && SPACE.test(sql[j]!)) j++;
      push('space', ' ');
      i = j;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      push('comment', '--');
      i = end < 0 ? n : end;
    } else if (c === '#' && dialect.hashComments) {
      const end = sql.indexOf('\n', i);
      push('comment', '#');
      i = end < 0 ? n : end;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      push('comment', '/*');
      i = end < 0 ? n : end + 2;
    } else if (c === "'") {
      i = skipQuoted(sql, i, "'", dialect.backslashEscapes);
      push('literal', '?');
    } else if (c === '"') {
      const end = skipQuoted(sql, i, '"', dialect.backslashEscapes);
      if (dialect.doubleQuotedStrings) push('literal', '?');
      else push('ident', sql.slice(i, end));
      i = end;
    } else if (c === '`') {
      const end = skipQuoted(sql, i, '`', false);
      push('ident', sql.slice(i, end));
      i = end;
    } else if ((c === 'E' || c === 'e') && next === "'" && !dialect.backslashEscapes) {
      i = skipQuoted(sql, i + 1, "'", true);
      push('literal', '?');
    } else if ((c === 'X' || c === 'x' || c === 'B' || c === 'b' || c === 'N' || c === 'n') && next === "'" && !continuesWord(tokens)) {
      i = skipQuoted(sql, i + 1, "'", dialect.backslashEscapes);
      push('literal', '?');
    } else if (c === '$') {
      const dollar = dollarQuote(sql, i);
      if (dollar > i) {
        push('literal', '?');
        i = dollar;
      } else if (next !== undefined && DIGIT.test(next)) {
        let j = i + 1;
        while (j < n && DIGIT.test(sql[j]!)) j++;
        push('placeholder', sql.slice(i, j));
        i = j;
      } else {
        push('punct', c);
        i++;
      }
    } else if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next) && !continuesWord(tokens))) {
      i = skipNumber(sql, i);
      push('literal', '?');
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_PART.test(sql[j]!)) j++;
      const word = sql.slice(i, j);
      const upper = word.toUpperCase();
      if (upper === 'TRUE' || upper === 'FALSE') push('literal', '?');
      else push('word', word);
      i = j;
    } else if (c === '?') {
      push('placeholder', '?');
      i++;
    } else if (c === ':' && next !== undefined && IDENT_START.test(next) && sql[i - 1] !== ':') {
      let j = i + 1;
      while (j < n && IDENT_PART.test(sql[j]!)) j++;
      push('placeholder', sql.slice(i, j));
      i = j;
    } else {
      push('punct', c);
      i++;
    }
  }
  return tokens;
}

/** True when the previous token is a word glued to what follows (`t1.col`, `abc'` is not a hex literal). */
function continuesWord(tokens: readonly Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return last !== undefined && (last.type === 'word' || last.type === 'ident');
}

/** Index just past the closing quote (or the end of input when unterminated). */
function skipQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  const n = sql.length;
  let i = start + 1;
  while (i < n) {
    const c = sql[i]!;
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return n;
}

/** `$tag$…$tag$` (PostgreSQL): index past the closing tag, or `start` when this is no dollar quote. */
function dollarQuote(sql: string, start: number): number {
  let j = start + 1;
  while (j < sql.length && /[A-Za-z0-9_]/.test(sql[j]!)) j++;
  if (sql[j] !== '$') return start;
  const tag = sql.slice(start, j + 1);
  if (/^\$[0-9]/.test(tag)) return start;
  const end = sql.indexOf(tag, j + 1);
  return end < 0 ? sql.length : end + tag.length;
}

function skipNumber(sql: string, start: number): number {
  const n = sql.length;
  let i = start;
  if (sql[i] === '0' && (sql[i + 1] === 'x' || sql[i + 1] === 'X' || sql[i + 1] === 'b' || sql[i + 1] === 'B')) {
    i += 2;
    while (i < n && /[0-9A-Fa-f_]/.test(sql[i]!)) i++;
    return i;
  }
  while (i < n && /[0-9_]/.test(sql[i]!)) i++;
  if (sql[i] === '.') {
    i++;
    while (i < n && DIGIT.test(sql[i]!)) i++;
  }
  if ((sql[i] === 'e' || sql[i] === 'E') && (DIGIT.test(sql[i + 1] ?? '') || ((sql[i + 1] === '+' || sql[i + 1] === '-') && DIGIT.test(sql[i + 2] ?? '')))) {
    i += 2;
    while (i < n && DIGIT.test(sql[i]!)) i++;
  }
  // A number glued to letters (`1abc`) is still one value: swallow the rest so no part of it leaks.
  while (i < n && IDENT_PART.test(sql[i]!)) i++;
  return i;
}

/** `IN ( ?, ?, $1 )` → index of the closing `)` when the list holds only values, else -1. */
function valueListEnd(tokens: readonly Token[], open: number): number {
  let sawValue = false;
  for (let k = open + 1; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.type === 'literal' || t.type === 'placeholder') sawValue = true;
    else if (t.type === 'punct' && t.text === ')') return sawValue ? k : -1;
    else if (!(t.type === 'space' || t.type === 'comment' || (t.type === 'punct' && (t.text === ',' || t.text === '-' || t.text === '+')))) return -1;
  }
  return -1;
}

function nextSolid(tokens: readonly Token[], from: number): number {
  let k = from;
  while (k < tokens.length && (tokens[k]!.type === 'space' || tokens[k]!.type === 'comment')) k++;
  return k;
}

export function sanitizeSql(sql: unknown, dialect: SqlDialect = POSTGRES_DIALECT, maxLength = MAX_SANITIZED_LENGTH): string {
  if (typeof sql !== 'string') return '';
  try {
    const tokens = tokenize(sql, dialect, maxLength + 16);
    let out = '';
    for (let k = 0; k < tokens.length; k++) {
      const t = tokens[k]!;
      if (t.type === 'comment') {
        // Line comments too become a block comment, so that the text after them stays readable.
        out += '/* ? */';
        continue;
      }
      out += t.text;
      if (t.type === 'word' && t.text.toUpperCase() === 'IN') {
        const open = nextSolid(tokens, k + 1);
        if (tokens[open]?.type === 'punct' && tokens[open]!.text === '(') {
          const close = valueListEnd(tokens, open);
          if (close > 0) {
            out += ' (?)';
            k = close;
          }
        }
      }
      if (out.length > maxLength) break;
    }
    out = out.trim();
    return out.length > maxLength ? `${out.slice(0, maxLength - 1)}…` : out;
  } catch {
    // Unreachable by design; a sanitiser must never take the caller down.
    return '';
  }
}

export interface SqlSummary {
  /** First keyword, upper case: `SELECT`, `INSERT`, `WITH`, … */
  operation: string | undefined;
  /** The table the statement is about (`FROM x`, `INTO x`, `UPDATE x`), as written. */
  collection: string | undefined;
}

const TABLE_AFTER: Record<string, string> = { SELECT: 'FROM', DELETE: 'FROM', INSERT: 'INTO', REPLACE: 'INTO', UPDATE: '', TRUNCATE: '', MERGE: 'INTO' };
const OPERATION = /^[A-Za-z]{2,20}$/;

/** The operation and main table of a statement, for span names (`SELECT orders`). */
export function summarizeSql(sql: unknown, dialect: SqlDialect = POSTGRES_DIALECT): SqlSummary {
  const summary: SqlSummary = { operation: undefined, collection: undefined };
  if (typeof sql !== 'string') return summary;
  try {
    const tokens = tokenize(sql.length > 4096 ? sql.slice(0, 4096) : sql, dialect, 4096).filter((t) => t.type !== 'space' && t.type !== 'comment');
    const first = tokens[0];
    if (first === undefined || first.type !== 'word' || !OPERATION.test(first.text)) return summary;
    const operation = first.text.toUpperCase();
    summary.operation = operation;
    const marker = TABLE_AFTER[operation];
    if (marker === undefined) return summary;
    let k = 1;
    if (marker !== '') {
      while (k < tokens.length && !(tokens[k]!.type === 'word' && tokens[k]!.text.toUpperCase() === marker)) k++;
      k++;
    }
    // Skip modifiers such as `TABLE`, `ONLY`, `IGNORE`, `LOW_PRIORITY`.
    while (k < tokens.length && tokens[k]!.type === 'word' && /^(TABLE|ONLY|IGNORE|LOW_PRIORITY|DELAYED|HIGH_PRIORITY|QUICK|INTO)$/i.test(tokens[k]!.text)) k++;
    let name = '';
    while (k < tokens.length && (tokens[k]!.type === 'word' || tokens[k]!.type === 'ident')) {
      name += tokens[k]!.text;
      if (tokens[k + 1]?.type === 'punct' && tokens[k + 1]!.text === '.') {
        name += '.';
        k += 2;
      } else {
        break;
      }
    }
    if (name !== '' && name.length <= 128 && !name.endsWith('.')) summary.collection = name;
  } catch {
    // Summaries are best effort.
  }
  return summary;
}
