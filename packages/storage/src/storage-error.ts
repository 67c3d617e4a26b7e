/**
 * Rejections caused by the caller's input (a malformed span, query or finding), as opposed to a
 * backend failure. The server maps `code` to a 400 response; `field` names what was wrong.
 */
export type StorageInputErrorCode = 'invalid_span' | 'invalid_query' | 'invalid_finding' | 'invalid_sdk_drops';

export class StorageInputError extends Error {
  override readonly name = 'StorageInputError';

  constructor(
    readonly code: StorageInputErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Rejection of any call made after `close()`. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';

  constructor() {
    super('the span store is closed');
  }
}
