/**
 * The one wrap/unwrap helper every monkey-patching instrumentation uses, so that patches are
 * idempotent, reversible and recognisable: a wrapped function remembers its original.
 */
const ORIGINAL = Symbol.for('linktrace.original');
/** Set on a wrapper that shadows an inherited method: unwrapping deletes it instead of redefining. */
const SHADOWS = Symbol.for('linktrace.shadowsInherited');

type AnyFunction = (...args: never[]) => unknown;
type Wrapped = AnyFunction & { [ORIGINAL]?: AnyFunction };

export function isWrapped(value: unknown): boolean {
  return typeof value === 'function' && (value as Wrapped)[ORIGINAL] !== undefined;
}

/** The function a wrapper replaced (or the value itself when it is not a wrapper). */
export function originalOf<F>(value: F): F {
  const original = typeof value === 'function' ? (value as unknown as Wrapped)[ORIGINAL] : undefined;
  return (original ?? value) as F;
}

/**
 * Replaces `target[name]` with `makeWrapper(original)`, keeping the property's enumerability and
 * the function's name and length. Returns false (and changes nothing) when the property is not a
 * function or is already wrapped.
 */
export function wrap<T extends object, K extends keyof T>(
  target: T,
  name: K,
  makeWrapper: (original: T[K]) => T[K],
): boolean {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return false;
  const original = target[name] as unknown;
  if (typeof original !== 'function' || isWrapped(original)) return false;
  const wrapper = makeWrapper(original as T[K]) as unknown as Wrapped;
  if (typeof wrapper !== 'function') return false;
  Object.defineProperty(wrapper, ORIGINAL, { value: original, enumerable: false, configurable: true });
  copyFunctionShape(wrapper, original as AnyFunction);
  const descriptor = Object.getOwnPropertyDescriptor(target, name);
  if (descriptor === undefined) Object.defineProperty(wrapper, SHADOWS, { value: true, enumerable: false, configurable: true });
  Object.defineProperty(target, name, {
    value: wrapper,
    writable: true,
    configurable: true,
    enumerable: descriptor ? descriptor.enumerable : false,
  });
  return true;
}

/** Restores what `wrap` replaced; does nothing when `target[name]` is not one of our wrappers. */
export function unwrap<T extends object, K extends keyof T>(target: T, name: K): void {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return;
  const current = target[name] as unknown;
  if (!isWrapped(current)) return;
  if ((current as { [SHADOWS]?: boolean })[SHADOWS] === true && Object.prototype.hasOwnProperty.call(target, name)) {
    delete target[name];
    return;
  }
  const descriptor = Object.getOwnPropertyDescriptor(target, name);
  Object.defineProperty(target, name, {
    value: (current as Wrapped)[ORIGINAL],
    writable: true,
    configurable: true,
    enumerable: descriptor ? descriptor.enumerable : false,
  });
}

function copyFunctionShape(wrapper: AnyFunction, original: AnyFunction): void {
  try {
    Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
    Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
  } catch {
    // Cosmetic only.
  }
}
