/**
 * The hash every Linktrace service uses to turn a trace id into a sampling decision, so that all
 * hops of a trace agree without talking to each other. It covers the WHOLE id string: Linktrace ids
 * begin with a timestamp, so sampling on a prefix (or on OpenTelemetry's "random" low bytes, which
 * here hold ip and port) would not be uniform.
 *
 * Algorithm (for other implementations): 32-bit FNV-1a over the UTF-16 code units of the id
 * (ASCII for a valid id), then the MurmurHash3 32-bit finalizer; result as an unsigned 32-bit integer.
 * A trace is kept at ratio r when `hash < floor(r * 2^32)` (r >= 1: always).
 */
import { stringHash32 } from '@linktrace/model';

const TWO32 = 4294967296;

export function traceIdHash(traceId: string): number {
  return stringHash32(traceId);
}

/** The hash bound below which a trace is kept at `ratio` (0..1). A trace kept at r is kept at any r' > r. */
export function ratioThreshold(ratio: number): number {
  if (!(ratio > 0)) return 0;
  if (ratio >= 1) return TWO32;
  return Math.floor(ratio * TWO32);
}
