/**
 * The ClickHouse HTTP interface (port 8123) over Node's own `fetch`: no client library. The
 * official `@clickhouse/client` targets current servers (it sends settings and headers 18.16 does
 * not know); the HTTP protocol below is the part every version since 1.1 speaks: the query in the
 * `query` parameter or the body, data after it, credentials as `user` / `password` parameters,
 * errors as a non-2xx answer whose body starts with `Code: N`.
 */

export interface ClickHouseEndpoint {
  /** `http://host:port` */
  url: string;
  user?: string | undefined;
  password?: string | undefined;
}

/** ClickHouse answered with an error (`code` is its error code), or could not be reached (`code` undefined). */
export class ClickHouseError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
    readonly unreachable = false,
  ) {
    super(message);
    this.name = 'ClickHouseError';
  }
}

/**
 * How long one request may take, answer included. A ClickHouse that hangs (a frozen host, a full
 * disk) instead of refusing would otherwise hold an insert or a query for Node's 300 s: with the
 * limit it counts as unreachable (ingest answers 503, /healthz says why) and the write is retried
 * from the log. Generous, because a merge-heavy server answers large inserts slowly.
 */
export const CLICKHOUSE_REQUEST_TIMEOUT_MS = 60_000;

export class ClickHouseHttp {
  constructor(
    readonly endpoint: ClickHouseEndpoint,
    private readonly database?: string,
    private readonly timeoutMs = CLICKHOUSE_REQUEST_TIMEOUT_MS,
  ) {}

  private url(params: Record<string, string>): string {
    const u = new URL(this.endpoint.url);
    if (this.database !== undefined) u.searchParams.set('database', this.database);
    if (this.endpoint.user !== undefined) u.searchParams.set('user', this.endpoint.user);
    if (this.endpoint.password !== undefined) u.searchParams.set('password', this.endpoint.password);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  }

  private async send(params: Record<string, string>, body: string): Promise<string> {
    // One deadline for the request and its answer (the body is read under the same signal).
    const signal = AbortSignal.timeout(this.timeoutMs);
    let res: Response | undefined;
    for (let attempt = 0; res === undefined; attempt++) {
      try {
        res = await fetch(this.url(params), { method: 'POST', body, signal });
      } catch (err) {
        if (signal.aborted) throw this.timedOut();
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        // ClickHouse closes a kept-alive connection after `keep_alive_timeout` (3 s by default); a
        // request sent on it just then finds it closed before the server read it: sent again once,
        // on a new connection. (A request cut while being processed may then run twice: the same
        // records stored twice merge into one on read, see record-merge.ts.)
        const reused = cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'ECONNRESET' || cause?.code === 'EPIPE';
        if (attempt === 0 && reused) continue;
        throw new ClickHouseError(`ClickHouse at ${this.endpoint.url} is unreachable: ${cause?.code ?? cause?.message ?? String(err)}`, undefined, true);
      }
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw this.timedOut();
      throw new ClickHouseError(`ClickHouse at ${this.endpoint.url} cut its answer short: ${String(err)}`, undefined, true);
    }
    if (!res.ok) {
      const m = /^Code: (\d+)/.exec(text);
      throw new ClickHouseError(`ClickHouse: ${text.trim().slice(0, 600)}`, m === null ? undefined : Number(m[1]));
    }
    return text;
  }

  private timedOut(): ClickHouseError {
    return new ClickHouseError(`ClickHouse at ${this.endpoint.url} did not answer within ${this.timeoutMs / 1000} s`, undefined, true);
  }

  /** Runs a statement that returns nothing (DDL, ALTER). */
  async command(sql: string, settings: Record<string, string> = {}): Promise<void> {
    await this.send(settings, sql);
  }

  /** Rows of a SELECT as arrays (JSONCompact; 64-bit integers as numbers: every value here is below 2^53). */
  async rows(sql: string, settings: Record<string, string> = {}): Promise<unknown[][]> {
    const text = await this.send({ output_format_json_quote_64bit_integers: '0', ...settings }, `${sql} FORMAT JSONCompact`);
    return (JSON.parse(text) as { data: unknown[][] }).data;
  }

  /** A statement's whole answer as text (its FORMAT clause included in `sql`). */
  text(sql: string): Promise<string> {
    return this.send({}, sql);
  }

  /** Inserts TabSeparated rows (each ending in a newline) into `table`. */
  async insertTsv(table: string, columns: readonly string[], rows: string, settings: Record<string, string> = {}): Promise<void> {
    await this.send({ query: `INSERT INTO ${table} (${columns.join(', ')}) FORMAT TabSeparated`, ...settings }, rows);
  }
}
