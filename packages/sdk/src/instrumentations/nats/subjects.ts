/**
 * Subjects the client library uses for itself: reply inboxes, the JetStream API and acks, KV and
 * object-store buckets, system events. They are plumbing, not queues: tracing them would record an
 * enqueue for every API call and ack, each one a false `not-consumed`.
 */
const SYSTEM_PREFIXES = ['_INBOX.', '$JS.', '$JSC.', '$KV.', '$O.', '$SYS.', '$SRV.'];

export function isSystemSubject(subject: string, inboxPrefix?: unknown): boolean {
  for (const prefix of SYSTEM_PREFIXES) if (subject.startsWith(prefix)) return true;
  return typeof inboxPrefix === 'string' && inboxPrefix.length > 0 && subject.startsWith(inboxPrefix);
}
