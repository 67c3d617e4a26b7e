/**
 * Worker thread of the ingest benchmark's preparation: builds one part of the request bodies
 * (ingest-batches.ts) and hands them back without copying (the buffers are transferred).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildBatches, type BatchPlan } from './ingest-batches.js';

const set = buildBatches(workerData as BatchPlan);
parentPort!.postMessage(
  set,
  set.bodies.map((b) => b.body.buffer as ArrayBuffer),
);
