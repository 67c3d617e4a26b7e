/**
 * What a federated agent knows about the instances it serves, learned from the spans it stores
 * (plus what `--serves` declared): their services and instances, the addresses callers reach them
 * at (a server span's `server.address`/`server.port` is what its caller dialled), the queues they
 * consume, and the `ip:port` in the trace ids of the traces they start. Bounded; kept in a small
 * file in the data directory so a restarted agent still answers for what its store holds.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTraceId, type Span } from '@linktrace/model';
import { addressKey, MAX_AGENT_ENTRIES, MAX_POINTER_LENGTH, parseAddress, type AgentAddress, type AgentInstance, type AgentQueue } from '@linktrace/storage';

export const AGENT_BOOK_FILE = 'agent-book.json';

interface BookFile {
  instances: AgentInstance[];
  addresses: AgentAddress[];
  queues: AgentQueue[];
  origins: string[];
}

/** `--serves` entries: `host:port`, `host:*`, or `queue:<name>`. */
export function parseServes(text: string): { addresses: string[]; queues: string[] } {
  const addresses: string[] = [];
  const queues: string[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim();
    if (t === '') continue;
    if (t.startsWith('queue:')) {
      const q = t.slice(6);
      if (q === '' || q.length > MAX_POINTER_LENGTH) throw new Error(`--serves: ${JSON.stringify(t)} has no queue name`);
      queues.push(q);
      continue;
    }
    const a = parseAddress(t);
    if (a === undefined) throw new Error(`--serves: ${JSON.stringify(t)} is not host:port, host:* or queue:<name>`);
    addresses.push(a);
  }
  return { addresses, queues };
}

export class AgentBook {
  private readonly instances = new Map<string, AgentInstance>();
  private readonly addresses = new Map<string, AgentAddress>();
  private readonly queues = new Map<string, AgentQueue>();
  private readonly origins = new Set<string>();
  /** The last 12 hex digits (ip + port) of trace ids already decoded: one decode per origin. */
  private readonly seenIdTails = new Set<string>();
  /** Entries not kept because a list was full. */
  overflow = 0;
  spansStored = 0;
  private changed = false;

  constructor(
    private readonly file: string | undefined,
    declared: { addresses: readonly string[]; queues: readonly string[] } = { addresses: [], queues: [] },
  ) {
    if (file !== undefined) this.load(file);
    for (const a of declared.addresses) if (!this.addresses.has(a)) this.addresses.set(a, { address: a });
    for (const q of declared.queues) if (!this.queues.has(q)) this.queues.set(q, { queue: q });
  }

  static inDataDir(dataDir: string, declared?: { addresses: readonly string[]; queues: readonly string[] }): AgentBook {
    return new AgentBook(join(dataDir, AGENT_BOOK_FILE), declared);
  }

  private load(file: string): void {
    let parsed: Partial<BookFile>;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<BookFile>;
    } catch {
      return; // none yet, or unreadable: learned again from the next spans
    }
    for (const i of parsed.instances ?? []) if (typeof i?.service === 'string') this.put(this.instances, `${i.service}\u0000${i.instance ?? ''}`, i);
    for (const a of parsed.addresses ?? []) if (typeof a?.address === 'string') this.put(this.addresses, a.address, a);
    for (const q of parsed.queues ?? []) if (typeof q?.queue === 'string') this.put(this.queues, q.queue, q);
    for (const o of parsed.origins ?? []) if (typeof o === 'string' && this.origins.size < MAX_AGENT_ENTRIES) this.origins.add(o);
    this.changed = false;
  }

  private put<T>(map: Map<string, T>, key: string, value: T): void {
    if (map.has(key)) return;
    if (map.size >= MAX_AGENT_ENTRIES) {
      this.overflow++;
      return;
    }
    map.set(key, value);
    this.changed = true;
  }

  /** Learns from one stored batch; cheap per span (a few map lookups). */
  observe(spans: readonly Span[]): void {
    this.spansStored += spans.length;
    for (const s of spans) {
      const ikey = `${s.service}\u0000${s.instance ?? ''}`;
      if (!this.instances.has(ikey)) this.put(this.instances, ikey, s.instance === undefined ? { service: s.service } : { service: s.service, instance: s.instance });
      if (s.kind === 'server') {
        const host = s.attributes['server.address'];
        const port = s.attributes['server.port'];
        if (typeof host === 'string' && (typeof port === 'number' || typeof port === 'string')) {
          const key = addressKey(host, port);
          const known = key === undefined ? undefined : this.addresses.get(key);
          if (key !== undefined && known === undefined) this.put(this.addresses, key, { address: key, service: s.service });
          else if (known !== undefined && known.service === undefined) {
            // Declared with --serves; now its service is known too.
            known.service = s.service;
            this.changed = true;
          }
        }
      } else if (s.kind === 'consumer') {
        const q = s.attributes['messaging.destination.name'];
        if (typeof q === 'string' && q !== '' && q.length <= MAX_POINTER_LENGTH && !this.queues.has(q)) this.put(this.queues, q, { queue: q, service: s.service });
      }
      if (s.parentSpanId === undefined && s.traceId.length === 32) {
        const tail = s.traceId.slice(20);
        if (!this.seenIdTails.has(tail) && this.seenIdTails.size < MAX_AGENT_ENTRIES) {
          this.seenIdTails.add(tail);
          const d = decodeTraceId(s.traceId);
          const origin = d === undefined ? undefined : addressKey(d.ipv4, d.port);
          if (origin !== undefined && !this.origins.has(origin) && this.origins.size < MAX_AGENT_ENTRIES) {
            this.origins.add(origin);
            this.changed = true;
          }
        }
      }
    }
  }

  snapshot(): BookFile {
    return { instances: [...this.instances.values()], addresses: [...this.addresses.values()], queues: [...this.queues.values()], origins: [...this.origins] };
  }

  /** Writes the file when something was learned since the last save (atomically: a crash leaves the old one). */
  save(): void {
    if (!this.changed || this.file === undefined) return;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot()));
    renameSync(tmp, this.file);
    this.changed = false;
  }
}
