/**
 * Thrown by decoders when a payload as a whole cannot be used (not JSON of the expected shape,
 * truncated or malformed protobuf). Problems with single spans are not thrown: those spans are
 * rejected and counted in the DecodeResult, and the rest of the payload is kept.
 */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  /** The wire format whose payload was bad, e.g. `otlp-proto`. */
  readonly format: string;

  constructor(format: string, message: string) {
    super(`${format}: ${message}`);
    this.format = format;
  }
}
