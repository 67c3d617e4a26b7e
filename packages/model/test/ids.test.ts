import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  createTraceIdGenerator,
  decodeTraceId,
  defaultIpv4,
  isValidSpanId,
  isValidTraceId,
  newSpanId,
  newTraceId,
  type TraceIdClock,
} from '../src/ids.js';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/** A clock the test drives by hand. */
function manualClock(perfMs: number, wallMs: number): TraceIdClock & { perf: number; wall: number } {
  return {
    perf: perfMs,
    wall: wallMs,
    now() {
      return this.perf;
    },
    wallMs() {
      return this.wall;
    },
  };
}

void test('trace id: 32 lowercase hex, valid, with the given ip and port', () => {
  const gen = createTraceIdGenerator({ ipv4: '10.1.2.250', port: 8080 });
  const id = gen();
  assert.match(id, HEX32);
  assert.ok(isValidTraceId(id));
  assert.equal(id.slice(20), '0a0102fa1f90');
});

void test('trace id: decode round trip gives the time, ip and port', () => {
  const gen = createTraceIdGenerator({ ipv4: '192.168.0.7', port: 65535 });
  const before = Date.now();
  const id = gen();
  const after = Date.now();
  const d = decodeTraceId(id);
  assert.ok(d, `decodable: ${id}`);
  assert.equal(d.ipv4, '192.168.0.7');
  assert.equal(d.port, 65535);
  assert.ok(d.timeMs >= before - 2 && d.timeMs <= after + 3, `time ${d.timeMs} within [${before}, ${after}]`);
  assert.equal(d.timeNs, BigInt('0x' + id.slice(0, 16)));
  assert.equal(d.sequence, parseInt(id.slice(16, 20), 16));
});

void test('trace id: defaults are the first non-internal IPv4 and the low 16 bits of the pid', () => {
  const d = decodeTraceId(newTraceId());
  assert.ok(d);
  assert.equal(d.ipv4, defaultIpv4());
  assert.equal(d.port, process.pid & 0xffff);
  assert.match(defaultIpv4(), /^\d+\.\d+\.\d+\.\d+$/);
});

void test('trace id: 1e6 ids from one process are strictly increasing and unique', () => {
  const gen = createTraceIdGenerator({ ipv4: '10.0.0.1', port: 1 });
  const seen = new Set<string>();
  let prev = '';
  for (let i = 0; i < 1_000_000; i++) {
    const id = gen();
    if (!(id > prev)) assert.fail(`id ${i} ${id} not after ${prev}`);
    prev = id;
    seen.add(id);
  }
  assert.equal(seen.size, 1_000_000);
});

void test('trace id: generators in one process share the clock, so their time+sequence never repeat', () => {
  const a = createTraceIdGenerator({ ipv4: '10.0.0.1', port: 7 });
  const b = createTraceIdGenerator({ ipv4: '10.0.0.1', port: 7 });
  let prev = '';
  for (let i = 0; i < 100_000; i++) {
    const id = i % 2 === 0 ? a() : newTraceId();
    const other = b();
    assert.ok(id.slice(0, 20) > prev.slice(0, 20) && other.slice(0, 20) > id.slice(0, 20));
    prev = other;
  }
});

void test('trace id: clock standing still -> sequence orders ids, time moves 1 ns per wrap', () => {
  const t0 = Date.UTC(2025, 0, 1);
  const clock = manualClock(500, t0);
  const gen = createTraceIdGenerator({ ipv4: '1.2.3.4', port: 9, clock });
  const first = decodeTraceId(gen());
  assert.ok(first);
  let prev = '';
  let last = first;
  for (let i = 0; i < 200_000; i++) {
    const id = gen();
    assert.ok(id > prev);
    prev = id;
    last = decodeTraceId(id) ?? assert.fail(id);
    assert.equal(last.sequence, (first.sequence + i + 1) & 0xffff);
  }
  // 200 000 ids after a random start wrap the 16-bit sequence 3 or 4 times.
  const wraps = Math.floor((first.sequence + 200_000) / 65536);
  assert.equal(last.timeNs - first.timeNs, BigInt(wraps));
  assert.ok(Math.abs(first.timeMs - t0) <= 1);
});

void test('trace id: clock going backwards still gives increasing ids', () => {
  const t0 = Date.UTC(2025, 5, 1);
  const clock = manualClock(100_000, t0);
  const gen = createTraceIdGenerator({ ipv4: '1.2.3.4', port: 9, clock });
  let prev = gen();
  for (let i = 0; i < 10_000; i++) {
    clock.perf -= 7;
    clock.wall -= 7;
    const id = gen();
    assert.ok(id > prev, `${id} after ${prev}`);
    prev = id;
  }
  // Once the clock is ahead again, ids follow it.
  clock.perf += 200_000;
  clock.wall = t0 + 60_000;
  const d = decodeTraceId(gen());
  assert.ok(d && Math.abs(d.timeMs - (t0 + 60_000)) <= 1, String(d?.timeMs));
});

void test('trace id: time follows the wall clock when it steps, keeps sub-ms precision when it agrees', () => {
  const t0 = Date.UTC(2025, 2, 3);
  const clock = manualClock(0, t0);
  const gen = createTraceIdGenerator({ ipv4: '1.2.3.4', port: 9, clock });
  clock.perf = 0.000123;
  const a = decodeTraceId(gen());
  assert.ok(a);
  assert.equal(a.timeNs - BigInt(t0) * 1_000_000n, 123n);
  // 1.5 s later the wall clock agrees (to the ms): no jump, ns precision kept.
  clock.perf = 1500.000456;
  clock.wall = t0 + 1500;
  const b = decodeTraceId(gen());
  assert.ok(b);
  assert.equal(b.timeNs - BigInt(t0) * 1_000_000n, 1_500_000_456n);
  // The wall clock is stepped one hour ahead (NTP): ids follow it after the next re-anchor.
  clock.perf = 3000;
  clock.wall = t0 + 3_600_000 + 3000;
  const c = decodeTraceId(gen());
  assert.ok(c && Math.abs(c.timeMs - (t0 + 3_603_000)) <= 1, String(c?.timeMs));
});

void test('trace id generator: bad configuration throws at creation', () => {
  for (const ipv4 of ['256.0.0.1', '1.2.3', '1.2.3.4.5', 'localhost', '01.2.3.4', '', ' 1.2.3.4', '::1']) {
    assert.throws(() => createTraceIdGenerator({ ipv4 }), TypeError, ipv4);
  }
  for (const port of [-1, 65536, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => createTraceIdGenerator({ ipv4: '1.2.3.4', port }), RangeError, String(port));
  }
  assert.equal(createTraceIdGenerator({ ipv4: '0.0.0.0', port: 0 })().slice(20), '000000000000');
});

void test('decodeTraceId: undefined for ids that are not ours', () => {
  const cases: unknown[] = [
    '463ac35c9f6413ad', // Zipkin 64-bit
    '463ac35c9f6413ad48485a3953bb6124'.toUpperCase(),
    '00000000000000000000000000000000',
    'ffffffffffffffff0000c0a800011f90', // time far in the future
    '0000000000000001abcdc0a800011f90', // time in 1970
    '1234567890abcdef1234567890abcdeg',
    '4bf92f3577b34da6a3ce929d0e0e4736a',
    '',
    undefined,
    null,
    42,
    {},
  ];
  for (const c of cases) assert.equal(decodeTraceId(c), undefined, String(c));
  // A time-shaped foreign id is decoded: the heuristic cannot tell it apart.
  const now = BigInt(Date.now()) * 1_000_000n;
  const shaped = now.toString(16).padStart(16, '0') + '0001' + '7f000001' + '0050';
  assert.deepEqual(decodeTraceId(shaped), {
    timeNs: now,
    timeMs: Number(now) / 1e6,
    sequence: 1,
    ipv4: '127.0.0.1',
    port: 80,
  });
});

void test('isValidTraceId / isValidSpanId', () => {
  assert.ok(isValidTraceId('4bf92f3577b34da6a3ce929d0e0e4736'));
  assert.ok(!isValidTraceId('4BF92F3577B34DA6A3CE929D0E0E4736'));
  assert.ok(!isValidTraceId('00000000000000000000000000000000'));
  assert.ok(!isValidTraceId('4bf92f3577b34da6a3ce929d0e0e473'));
  assert.ok(!isValidTraceId('4bf92f3577b34da6a3ce929d0e0e4736 '));
  assert.ok(!isValidTraceId('463ac35c9f6413ad'));
  assert.ok(isValidTraceId('463ac35c9f6413ad', true));
  assert.ok(!isValidTraceId('0000000000000000', true));
  assert.ok(!isValidTraceId('463ac35c9f6413a', true));
  assert.ok(!isValidTraceId(12345678901234567890n));
  assert.ok(!isValidTraceId(undefined, true));
  assert.ok(isValidSpanId('00f067aa0ba902b7'));
  assert.ok(!isValidSpanId('0000000000000000'));
  assert.ok(!isValidSpanId('00F067AA0BA902B7'));
  assert.ok(!isValidSpanId('00f067aa0ba902b'));
  assert.ok(!isValidSpanId('00f067aa0ba902b7a'));
  assert.ok(!isValidSpanId('00f067aa0ba902bz'));
  assert.ok(!isValidSpanId(null));
});

void test('span id: 1e6 ids are valid, unique, and every hex digit is about equally frequent per position', () => {
  const n = 1_000_000;
  const seen = new Set<string>();
  const counts = new Uint32Array(16 * 16);
  for (let i = 0; i < n; i++) {
    const id = newSpanId();
    if (!HEX16.test(id) || !isValidSpanId(id)) assert.fail(`bad span id ${id}`);
    seen.add(id);
    for (let p = 0; p < 16; p++) counts[p * 16 + parseInt(id[p]!, 16)]!++;
  }
  assert.equal(seen.size, n);
  // Expected 62 500 per digit and position, standard deviation ~242: 1 500 is over 6 sigma.
  for (let k = 0; k < counts.length; k++) {
    assert.ok(Math.abs(counts[k]! - n / 16) < 1500, `position ${k >> 4} digit ${k & 15}: ${counts[k]}`);
  }
});

const IDS_MODULE = new URL('../src/ids.js', import.meta.url).href;

/** Starts `ports.length` children at once; each prints its pid then `perChild` trace ids. */
async function idsFromChildren(ports: (number | undefined)[], perChild: number): Promise<{ pid: number; ids: string[] }[]> {
  const script = `
    import { createTraceIdGenerator } from ${JSON.stringify(IDS_MODULE)};
    const port = process.argv[1] === '-' ? undefined : Number(process.argv[1]);
    const gen = createTraceIdGenerator(port === undefined ? {} : { port });
    const out = [String(process.pid)];
    for (let i = 0; i < ${perChild}; i++) out.push(gen());
    process.stdout.write(out.join('\\n'));
  `;
  return Promise.all(
    ports.map(
      (port) =>
        new Promise<{ pid: number; ids: string[] }>((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script, port === undefined ? '-' : String(port)], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          const chunks: Buffer[] = [];
          child.stdout.on('data', (c: Buffer) => chunks.push(c));
          child.on('error', reject);
          child.on('close', (code) => {
            if (code !== 0) return reject(new Error(`child exited with ${code}`));
            const [pid, ...ids] = Buffer.concat(chunks).toString('latin1').split('\n');
            resolve({ pid: Number(pid), ids });
          });
        }),
    ),
  );
}

function assertUniqueAcrossChildren(results: { pid: number; ids: string[] }[], perChild: number): void {
  const all = new Set<string>();
  for (const r of results) {
    assert.equal(r.ids.length, perChild);
    for (let i = 1; i < r.ids.length; i++) assert.ok(r.ids[i]! > r.ids[i - 1]!, 'monotonic within the child');
    for (const id of r.ids) all.add(id);
  }
  assert.equal(all.size, perChild * results.length);
}

void test('trace id: unique across 4 processes started at once with differing ports', async () => {
  const perChild = 250_000;
  const ports = [3000, 3001, 3002, 3003];
  const results = await idsFromChildren(ports, perChild);
  assertUniqueAcrossChildren(results, perChild);
  results.forEach((r, i) => {
    const d = decodeTraceId(r.ids[0]);
    assert.equal(d?.port, ports[i]);
    assert.equal(d?.ipv4, defaultIpv4());
  });
});

void test('trace id: unique across 4 processes started at once with ports defaulted from the pid', async () => {
  const perChild = 250_000;
  const results = await idsFromChildren([undefined, undefined, undefined, undefined], perChild);
  assertUniqueAcrossChildren(results, perChild);
  for (const r of results) assert.equal(decodeTraceId(r.ids[perChild - 1])?.port, r.pid & 0xffff);
});

void test('cost per id (printed, not asserted)', (t) => {
  const n = 2_000_000;
  const gen = createTraceIdGenerator();
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += gen().length + newSpanId().length;
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += gen().length;
  const traceNs = Number(process.hrtime.bigint() - t0) / n;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += newSpanId().length;
  const spanNs = Number(process.hrtime.bigint() - t0) / n;
  assert.ok(sink > 0);
  t.diagnostic(`trace id: ${traceNs.toFixed(1)} ns/id, span id: ${spanNs.toFixed(1)} ns/id (${n} each)`);
});
