/**
 * Splits a stream of bytes into lines without holding more than one line (and one chunk) in memory.
 * The line handler may return a promise (when it has a batch to write): reading waits for it, which
 * is the back-pressure that keeps a multi-gigabyte import at a constant footprint.
 */
import { StringDecoder } from 'node:string_decoder';

/** Lines longer than this are reported as bad and skipped, not buffered. */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

export interface LineHandler {
  /** `lineNo` counts from 1. Empty lines are passed too (the caller decides). */
  line(text: string, lineNo: number): void | Promise<void>;
  tooLong(lineNo: number): void;
  /** After each chunk. */
  progress?(): void;
}

export async function readLines(chunks: AsyncIterable<Buffer | string>, handler: LineHandler): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let skipping = false;
  let lineNo = 0;
  // Synchronous unless the handler waits: no promise per line.
  const emit = (text: string): void | Promise<void> => {
    lineNo++;
    if (skipping) {
      skipping = false;
      handler.tooLong(lineNo);
      return;
    }
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    return handler.line(lineNo === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line, lineNo);
  };
  const take = async (text: string): Promise<void> => {
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      const piece = text.slice(from, nl);
      from = nl + 1;
      let pending: void | Promise<void>;
      if (carry.length > 0) {
        const whole = carry + piece;
        carry = '';
        pending = emit(whole);
      } else pending = emit(piece);
      if (pending !== undefined) await pending;
    }
    if (from < text.length) {
      if (!skipping) carry += text.slice(from);
      if (carry.length > MAX_LINE_CHARS) {
        carry = '';
        skipping = true;
      }
    }
  };
  for await (const chunk of chunks) {
    await take(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    handler.progress?.();
  }
  await take(decoder.end());
  if (carry.length > 0 || skipping) {
    const pending = emit(carry);
    if (pending !== undefined) await pending;
  }
  return lineNo;
}
