import { Context } from '../context/context.js';
import { contextFromPropagated } from '../trace/remote-context.js';
import type { Propagator, TextMapGetter } from '../types.js';

/** The carrier could not be read (its getter threw, or it is not something the getter knows). */
export const UNREADABLE = false;

/**
 * The upstream context in `carrier` as a Context holding its remote span and baggage; undefined
 * when the carrier holds none (an untraced producer), UNREADABLE when reading it threw.
 */
export function extractContext<C>(propagator: Propagator, carrier: C, getter: TextMapGetter<C>): Context | undefined | typeof UNREADABLE {
  let ctx: Context;
  try {
    ctx = contextFromPropagated(propagator.extract({}, carrier, getter), Context.ROOT);
  } catch {
    return UNREADABLE;
  }
  return ctx === Context.ROOT ? undefined : ctx;
}
