import { hashRecord } from './canonical-json.js';

/** What a reader returns: a version and/or a hash, or the record itself (hashed here, never sent). */
export type ReadResult = { version?: string | number; hash?: string } | { payload: unknown } | undefined | null;

/** The comparable state of one side: what leaves the process. */
export interface RecordState {
  version?: string;
  hash?: string;
}

/** `undefined` = no such record. Throws on a result that is neither shape (the reader's mistake). */
export function toRecordState(result: ReadResult): RecordState | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result !== 'object') throw new TypeError(`reader returned ${typeof result}, not an object`);
  if ('payload' in result) {
    // A payload of undefined/null means the reader found no record.
    return result.payload === undefined || result.payload === null ? undefined : { hash: hashRecord(result.payload) };
  }
  const state: RecordState = {};
  const { version, hash } = result;
  if (typeof version === 'number' && Number.isFinite(version)) state.version = String(version);
  else if (typeof version === 'string' && version.length > 0) state.version = version;
  else if (version !== undefined) throw new TypeError('reader returned a version that is not a string or a finite number');
  if (typeof hash === 'string' && hash.length > 0) state.hash = hash;
  else if (hash !== undefined) throw new TypeError('reader returned a hash that is not a non-empty string');
  if (state.version === undefined && state.hash === undefined) throw new TypeError('reader returned neither version, hash nor payload');
  return state;
}
