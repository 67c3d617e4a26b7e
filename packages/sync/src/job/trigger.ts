import { isVersion, type Version } from './versions.js';

/** Why a run happens. `retry` is never given by callers: a worker re-delivers a failed trigger as it was. */
export type TriggerReason = 'demand' | 'event' | 'schedule' | 'resync';

export const TRIGGER_REASONS: readonly TriggerReason[] = ['demand', 'event', 'schedule', 'resync'];

/** One request to sync one entity. */
export interface SyncTrigger {
  key: string;
  /** The version the trigger announces (an event's), when it knows one. */
  version?: Version;
  reason: TriggerReason;
  /** When the trigger was made, ms since the epoch (trigger-to-write latency starts here). */
  at: number;
  /** Small string fields carried to fetch and write (e.g. a tenant); never recorded on spans. */
  meta?: Record<string, string>;
}

const MAX_KEY = 512;
const MAX_META = 32;

/** The trigger as it travels in a queue message body (JSON). */
export function encodeTrigger(trigger: SyncTrigger): Buffer {
  return Buffer.from(JSON.stringify(trigger));
}

/** A trigger read from a message body, or the reason it is not one. Never throws. */
export function decodeTrigger(body: Buffer | string): SyncTrigger | string {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  return checkTrigger(value);
}

/** `value` as a trigger, or what is wrong with it. */
export function checkTrigger(value: unknown): SyncTrigger | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const { key, version, reason, at, meta } = value as Record<string, unknown>;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) return `key must be a string of 1 to ${MAX_KEY} characters`;
  if (version !== undefined && version !== null && !isVersion(version)) return 'version must be a finite number or a non-empty string';
  if (typeof reason !== 'string' || !(TRIGGER_REASONS as readonly string[]).includes(reason)) return `reason must be one of ${TRIGGER_REASONS.join(', ')}`;
  if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) return 'at must be a time in ms';
  const trigger: SyncTrigger = { key, reason: reason as TriggerReason, at };
  if (version !== undefined && version !== null) trigger.version = version as Version;
  if (meta !== undefined) {
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return 'meta must be an object of strings';
    const entries = Object.entries(meta);
    if (entries.length > MAX_META || entries.some(([, v]) => typeof v !== 'string')) return `meta must be at most ${MAX_META} string fields`;
    trigger.meta = meta as Record<string, string>;
  }
  return trigger;
}
