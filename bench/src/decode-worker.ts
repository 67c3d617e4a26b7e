/**
 * Worker thread of bench:decode: gunzips and decodes request bodies as the server's receivers do
 * (`decodeBody`) and posts the decoded spans back, which structured-clones them into the main
 * thread's heap. The question it answers: does moving decode off the JavaScript thread save that
 * thread more than the clone costs it?
 */
import { parentPort } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { decodeBody, type WireFormat } from '@linktrace/server';

export interface DecodeJob {
  id: number;
  format: WireFormat;
  gzip: boolean;
  body: Uint8Array;
  /** False: only the count goes back (the floor of any form of handing spans back). */
  keep: boolean;
}

parentPort!.on('message', (job: DecodeJob) => {
  const bytes = job.gzip ? gunzipSync(job.body) : job.body;
  const d = decodeBody(job.format, bytes);
  parentPort!.postMessage({ id: job.id, count: d.spans.length, spans: job.keep ? d.spans : [] });
});
