export interface SpanLimits {
  /** Attributes per span; more are dropped and counted. */
  attributeCountLimit: number;
  /** Characters per string attribute value (and per string array element); longer ones are cut. */
  attributeValueLengthLimit: number;
  /** Elements per array attribute value. */
  attributeArrayLengthLimit: number;
  eventCountLimit: number;
  linkCountLimit: number;
  /** Attributes per event or link. */
  attributePerEventCountLimit: number;
}

export const DEFAULT_SPAN_LIMITS: Readonly<SpanLimits> = Object.freeze({
  attributeCountLimit: 128,
  attributeValueLengthLimit: 4096,
  attributeArrayLengthLimit: 128,
  eventCountLimit: 128,
  linkCountLimit: 128,
  attributePerEventCountLimit: 32,
});
