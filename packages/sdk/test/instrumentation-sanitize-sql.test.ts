import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MAX_SANITIZED_LENGTH,
  MYSQL_DIALECT,
  POSTGRES_DIALECT,
  sanitizeSql,
  summarizeSql,
} from '../src/instrumentations/db-common/sanitize-sql.js';
import { formatValues } from '../src/instrumentations/db-common/db-span.js';

describe('sanitizeSql', () => {
  it('replaces literals and keeps the statement shape', () => {
    assert.equal(
      sanitizeSql("SELECT id, name FROM users WHERE email = 'a@b.c' AND age > 42 AND score < -1.5e3 AND flag = TRUE"),
      'SELECT id, name FROM users WHERE email = ? AND age > ? AND score < -? AND flag = ?',
    );
    assert.equal(sanitizeSql('UPDATE t1 SET col2 = $1 WHERE id = $2'), 'UPDATE t1 SET col2 = $1 WHERE id = $2');
    assert.equal(sanitizeSql("INSERT INTO shop (id, hex, bits) VALUES (7, X'DEADBEEF', B'0101')"), 'INSERT INTO shop (id, hex, bits) VALUES (?, ?, ?)');
    assert.equal(sanitizeSql('SELECT 0xFF, .5, 1e-3, 12abc'), 'SELECT ?, ?, ?, ?');
    assert.equal(sanitizeSql("SELECT $$body$$ , $tag$ it's $tag$, E'a\\'b'"), 'SELECT ? , ?, ?');
    assert.equal(sanitizeSql('SELECT "Quoted Col" FROM "My Table"'), 'SELECT "Quoted Col" FROM "My Table"');
    assert.equal(sanitizeSql('SELECT x::int, :named FROM t'), 'SELECT x::int, :named FROM t');
  });

  it('collapses IN lists of values, keeps subqueries', () => {
    assert.equal(sanitizeSql("SELECT * FROM t WHERE id IN (1, 2, 3) AND k in ('a','b')"), 'SELECT * FROM t WHERE id IN (?) AND k in (?)');
    assert.equal(sanitizeSql('SELECT * FROM t WHERE id IN ($1, $2)'), 'SELECT * FROM t WHERE id IN (?)');
    assert.equal(sanitizeSql('SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = 3)'), 'SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = ?)');
  });

  it('replaces comment contents', () => {
    assert.equal(sanitizeSql("SELECT 1 -- user secret\nFROM t /* token 'x' */ WHERE a = 2"), 'SELECT ? /* ? */ FROM t /* ? */ WHERE a = ?');
    assert.equal(sanitizeSql('SELECT 1 # hidden', MYSQL_DIALECT), 'SELECT ? /* ? */');
    assert.equal(sanitizeSql('SELECT a # b FROM t', POSTGRES_DIALECT), 'SELECT a # b FROM t');
  });

  it('follows each dialect for quotes and escapes', () => {
    // MySQL: "…" is a string and \' escapes; PostgreSQL: "…" is an identifier.
    assert.equal(sanitizeSql('SELECT "secret", \'it\\\'s\' FROM `my table`', MYSQL_DIALECT), 'SELECT ?, ? FROM `my table`');
    assert.equal(sanitizeSql("SELECT 'a''b', 'c'"), 'SELECT ?, ?');
  });

  it('unterminated literals and comments swallow the rest', () => {
    assert.equal(sanitizeSql("SELECT 'never closed secret"), 'SELECT ?');
    assert.equal(sanitizeSql('SELECT 1 /* open secret'), 'SELECT ? /* ? */');
    assert.equal(sanitizeSql('SELECT $q$ open secret'), 'SELECT ?');
  });

  it('bounds the output and takes anything', () => {
    const long = `SELECT ${'col, '.repeat(2000)}x FROM t`;
    const out = sanitizeSql(long);
    assert.equal(out.length, MAX_SANITIZED_LENGTH);
    assert.ok(out.endsWith('…'));
    assert.equal(sanitizeSql(undefined), '');
    assert.equal(sanitizeSql(42), '');
    assert.equal(sanitizeSql(''), '');
  });

  it('property: never throws, bounded, and no literal value survives', () => {
    const marker = fc.stringMatching(/^[a-z]{6,12}$/).map((s) => `zq${s}`);
    const literal = fc.oneof(
      marker.map((m) => ({ text: `'${m}'`, value: m })),
      marker.map((m) => ({ text: `'it''s ${m}'`, value: m })),
      marker.map((m) => ({ text: `E'\\'${m}'`, value: m })),
      marker.map((m) => ({ text: `$$${m}$$`, value: m })),
      marker.map((m) => ({ text: `/* ${m} */`, value: m })),
      marker.map((m) => ({ text: `-- ${m}\n`, value: m })),
      fc.integer({ min: 100000, max: 2 ** 40 }).map((n) => ({ text: String(n), value: String(n) })),
      fc.integer({ min: 100000, max: 2 ** 40 }).map((n) => ({ text: `0x${n.toString(16)}abcdef`, value: `${n.toString(16)}abcdef` })),
      fc.double({ min: 1000, max: 1e9, noNaN: true }).map((n) => ({ text: n.toFixed(4), value: n.toFixed(4) })),
    );
    const glue = fc.constantFrom(' ', ', ', ' = ', ' IN (', ') ', ' AND col = ', '(', ' WHERE x < ', '\n');
    const statement = fc.array(fc.tuple(glue, literal), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(statement, (parts) => {
        const sql = `SELECT a FROM t WHERE ${parts.map(([g, l]) => g + l.text).join('')}`;
        const out = sanitizeSql(sql, POSTGRES_DIALECT);
        for (const [, l] of parts) assert.ok(!out.includes(l.value), `${l.value} leaked from ${sql} into ${out}`);
        assert.ok(out.length <= MAX_SANITIZED_LENGTH);
      }),
      { numRuns: 300, seed: 4242 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (garbage) => {
        for (const dialect of [POSTGRES_DIALECT, MYSQL_DIALECT]) {
          const out = sanitizeSql(garbage, dialect);
          assert.equal(typeof out, 'string');
          assert.ok(out.length <= MAX_SANITIZED_LENGTH);
          summarizeSql(garbage, dialect);
        }
      }),
      { numRuns: 300, seed: 4243 },
    );
  });
});

describe('summarizeSql', () => {
  it('names the operation and the table', () => {
    assert.deepEqual(summarizeSql('SELECT a FROM public.orders o WHERE x = 1'), { operation: 'SELECT', collection: 'public.orders' });
    assert.deepEqual(summarizeSql('insert into "Shop" (a) values (1)'), { operation: 'INSERT', collection: '"Shop"' });
    assert.deepEqual(summarizeSql('UPDATE ONLY items SET a = 1'), { operation: 'UPDATE', collection: 'items' });
    assert.deepEqual(summarizeSql('DELETE FROM `t`', MYSQL_DIALECT), { operation: 'DELETE', collection: '`t`' });
    assert.deepEqual(summarizeSql('/* c */ BEGIN'), { operation: 'BEGIN', collection: undefined });
    assert.deepEqual(summarizeSql('SELECT 1'), { operation: 'SELECT', collection: undefined });
    assert.deepEqual(summarizeSql("'junk"), { operation: undefined, collection: undefined });
  });
});

describe('formatValues', () => {
  it('is bounded and shortens what it cannot show', () => {
    assert.equal(formatValues(['a', 1, null, true, Buffer.from('xyz'), { toJSON: () => 'no' }]), '["a",1,null,true,"<3 bytes>","<object>"]');
    assert.equal(formatValues(undefined), undefined);
    const long = formatValues(Array.from({ length: 500 }, (_, i) => `value-${i}`))!;
    assert.ok(long.length <= 1024, String(long.length));
    assert.ok(long.endsWith(',…]'));
  });
});
