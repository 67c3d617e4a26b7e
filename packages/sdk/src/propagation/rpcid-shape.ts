/**
 * The shape check for a position id (DESIGN §2) arriving in `tracestate`. It mirrors the model's
 * `isValidRpcid` (shape, at most 256 characters, depth at most 64) so that what the SDK accepts
 * from the wire the rest of the pipeline accepts too.
 */

const RPCID_RE = /^0(?:\.[1-9][0-9]*)*$/;
const MAX_LENGTH = 256;
const MAX_DEPTH = 64;

export function isValidRpcidShape(rpcid: unknown): rpcid is string {
  if (typeof rpcid !== 'string' || rpcid.length > MAX_LENGTH || !RPCID_RE.test(rpcid)) return false;
  let depth = 0;
  for (let i = 0; i < rpcid.length; i++) if (rpcid.charCodeAt(i) === 46) depth++;
  return depth <= MAX_DEPTH;
}
