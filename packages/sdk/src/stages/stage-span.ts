/**
 * What a stage can be declared on: any span with `setAttribute`, the SDK's own or another tracer's
 * (an OpenTelemetry span fits), so spans from every tracer carry the same DESIGN §3 attributes.
 */
export interface StageSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
}
