/**
 * OTLP nests spans as resource -> scope -> span. Encoders group model spans by
 * (service, instance, resource attributes) and then by scope. Spans of one SDK batch share the same
 * resource and scope objects, so the identity of the previous span's objects is checked first and
 * the string keys are only built (and cached per object) when they differ.
 */
import type { AttributeValue, Attributes, InstrumentationScope, Span } from '../span.js';
import { RESOURCE_ATTR } from './wire-attributes.js';

export interface ScopeGroup {
  scope: InstrumentationScope | undefined;
  spans: Span[];
}

export interface ResourceGroup {
  service: string;
  instance: string | undefined;
  resource: Attributes | undefined;
  scopes: ScopeGroup[];
}

const attrKeyCache = new WeakMap<object, string>();

function valueKey(v: AttributeValue): string {
  return v instanceof Uint8Array ? `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}` : JSON.stringify(v);
}

/** A string equal for equal attribute maps, whatever their key order. */
function attributesKey(attrs: Attributes | undefined): string {
  if (attrs === undefined) return '';
  let key = attrKeyCache.get(attrs);
  if (key === undefined) {
    key = Object.keys(attrs)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${valueKey(attrs[k])}`)
      .join(',');
    attrKeyCache.set(attrs, key);
  }
  return key;
}

function scopeKey(scope: InstrumentationScope | undefined): string {
  if (scope === undefined) return '';
  let key = attrKeyCache.get(scope);
  if (key === undefined) {
    key = `${JSON.stringify(scope.name)}|${JSON.stringify(scope.version ?? null)}|${attributesKey(scope.attributes)}`;
    attrKeyCache.set(scope, key);
  }
  return key;
}

export function groupSpans(spans: readonly Span[]): ResourceGroup[] {
  const groups: ResourceGroup[] = [];
  const byKey = new Map<string, ResourceGroup>();
  const scopeIndex = new Map<ResourceGroup, Map<string, ScopeGroup>>();
  let last: Span | undefined;
  let lastScope: ScopeGroup | undefined;
  for (const span of spans) {
    if (
      last !== undefined &&
      lastScope !== undefined &&
      span.service === last.service &&
      span.instance === last.instance &&
      span.resource === last.resource &&
      span.scope === last.scope
    ) {
      lastScope.spans.push(span);
      last = span;
      continue;
    }
    const rKey = `${span.service}\u0000${span.instance === undefined ? '\u0001' : span.instance}\u0000${attributesKey(span.resource)}`;
    let group = byKey.get(rKey);
    if (group === undefined) {
      group = { service: span.service, instance: span.instance, resource: span.resource, scopes: [] };
      byKey.set(rKey, group);
      scopeIndex.set(group, new Map());
      groups.push(group);
    }
    const scopes = scopeIndex.get(group) as Map<string, ScopeGroup>;
    const sKey = scopeKey(span.scope);
    let scopeGroup = scopes.get(sKey);
    if (scopeGroup === undefined) {
      scopeGroup = { scope: span.scope, spans: [] };
      scopes.set(sKey, scopeGroup);
      group.scopes.push(scopeGroup);
    }
    scopeGroup.spans.push(span);
    last = span;
    lastScope = scopeGroup;
  }
  return groups;
}

/**
 * The resource attributes written on the wire for a group: `service.name`, `service.instance.id`,
 * the span's other resource attributes, then `extra` (which wins on a clash).
 */
export function resourceAttributes(group: ResourceGroup, extra: Attributes | undefined): Attributes {
  const out: Attributes = { [RESOURCE_ATTR.serviceName]: group.service };
  if (group.instance !== undefined) out[RESOURCE_ATTR.instanceId] = group.instance;
  if (group.resource !== undefined) {
    for (const k in group.resource) {
      if (k !== RESOURCE_ATTR.serviceName && k !== RESOURCE_ATTR.instanceId) out[k] = group.resource[k];
    }
  }
  if (extra !== undefined) for (const k in extra) out[k] = extra[k];
  return out;
}
