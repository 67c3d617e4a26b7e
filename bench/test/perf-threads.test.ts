import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAIN_THREAD, splitPerfSamples } from '../src/perf-threads.js';

// Three samples as `perf script` prints them: the main thread, a V8 marking helper, DuckDB.
const SAMPLES = `node 100  10.000001:    2004008 cpu-clock:ppp: 
	          d11b60 Builtins_FindOrderedHashMapEntry+0x0 (/usr/bin/node)

node 101  10.000002:    2004008 cpu-clock:ppp: 
	          838180 v8::internal::ConcurrentMarking::RunMajor+0x10 (/usr/bin/node)
	          838000 v8::platform::DefaultJobWorker::Run+0x0 (/usr/bin/node)

:102 102  10.000003:    2004008 cpu-clock:ppp: 
	          16e0ba duckdb::FastMemcpy+0x7a (/x/libduckdb.so)

node 101  10.000004:    2004008 cpu-clock:ppp: 
	          16e0ba v8::internal::ScavengerCollector::JobTask::Run+0x7a (/usr/bin/node)
`;

describe('splitPerfSamples', () => {
  it('puts each sample in the group of its thread and frames', () => {
    const split = splitPerfSamples(SAMPLES, 100);
    assert.deepEqual(Object.fromEntries(split), {
      [MAIN_THREAD]: 1,
      'V8 concurrent marking (old generation)': 1,
      DuckDB: 1,
      'V8 scavenge helpers (young generation)': 1,
    });
  });
});
