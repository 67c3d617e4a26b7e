/**
 * Zipkin's `annotationQuery`: terms joined by ` and `, e.g. `error and http.method=GET`. A bare term
 * matches a span with that tag key or an annotation with that value; `key=value` matches a tag with
 * exactly that value.
 */
import { ApiError } from '../errors.js';

export interface AnnotationTerm {
  key: string;
  /** Absent for a bare term. */
  value?: string;
}

const AND = /\s+and\s+/;
const MAX_TERMS = 32;

export function parseAnnotationQuery(text: string): AnnotationTerm[] {
  const terms: AnnotationTerm[] = [];
  for (const raw of text.split(AND)) {
    const term = raw.trim();
    if (term === '') continue;
    const eq = term.indexOf('=');
    const key = (eq < 0 ? term : term.slice(0, eq)).trim();
    if (key === '') throw new ApiError('bad_request', `annotationQuery term ${JSON.stringify(term)} has no key`);
    const value = eq < 0 ? '' : term.slice(eq + 1).trim();
    terms.push(value === '' ? { key } : { key, value });
  }
  if (terms.length > MAX_TERMS) throw new ApiError('bad_request', `annotationQuery has more than ${MAX_TERMS} terms`);
  return terms;
}
