/**
 * `linktrace remedy <finding-id> --server <url> --remedy-token <t>`: asks the server to repair a
 * finding (docs/remedies.md) and, with `--wait`, follows the remedy until it is verified, failed,
 * expired or superseded. `--dry-run` shows what would run and where, and queues nothing.
 */
import type { Command } from 'commander';
import { parseFindingId } from '@linktrace/model';
import { processIo, type CliIo } from './cli-io.js';
import { serverUrl } from './data-source-options.js';
import { parseDuration, ConfigError } from '../config.js';

export interface RemedyFlags {
  server?: string;
  remedyToken?: string;
  undo?: boolean;
  dryRun?: boolean;
  wait?: string | boolean;
  json?: boolean;
}

interface RemedyAnswer {
  created?: boolean;
  dryRun?: boolean;
  wouldRun?: string;
  liveInstances?: string[];
  remedy?: { id: string; state: string; reason?: string; remedyTraceId?: string; service: string; stage: string; operation: string; action: string };
  error?: { code: string; message: string };
}

const FINAL = new Set(['verified', 'failed', 'expired', 'superseded']);
const POLL_MS = 500;

async function call(url: string, init: RequestInit): Promise<{ status: number; body: RemedyAnswer }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new Error(`cannot reach ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as RemedyAnswer };
  } catch {
    throw new Error(`${url} answered ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
}

export async function remedyCommand(findingId: string, flags: RemedyFlags, io: CliIo, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<number> {
  const fail = (message: string, code: number): number => {
    io.stderr.write(`linktrace remedy: ${message}\n`);
    return code;
  };
  if (parseFindingId(findingId) === undefined) return fail(`${JSON.stringify(findingId)} is not a finding id (<trace id>-<span id>-<rule>: the id field of GET /api/v1/findings)`, 2);
  if (flags.server === undefined) return fail('--server <url> is required (the Linktrace server that found it)', 2);
  const token = flags.remedyToken ?? io.env.LINKTRACE_REMEDY_TOKEN;
  if (token === undefined || token === '') return fail('--remedy-token <token> (or LINKTRACE_REMEDY_TOKEN) is required: requesting a remedy is its own scope', 2);
  let waitMs: number | undefined;
  let base: string;
  try {
    if (flags.wait !== undefined) waitMs = typeof flags.wait === 'string' ? parseDuration(flags.wait, '--wait') : 120_000;
    base = serverUrl(flags.server);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof Error) return fail(err.message, 2);
    throw err;
  }
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' };
  const body = JSON.stringify({ ...(flags.undo === true && { action: 'undo' }), ...(flags.dryRun === true && { dryRun: true }) });
  try {
    const first = await call(`${base}/api/v1/findings/${encodeURIComponent(findingId)}/remedy`, { method: 'POST', headers, body });
    if (first.body.error !== undefined) return fail(`${first.body.error.message} (${first.body.error.code})`, 1);
    if (flags.json === true && waitMs === undefined) {
      io.stdout.write(`${JSON.stringify(first.body, null, 2)}\n`);
      return 0;
    }
    if (first.body.dryRun === true) {
      io.stdout.write(`dry run: ${first.body.wouldRun ?? ''}\n`);
      return 0;
    }
    let remedy = first.body.remedy!;
    io.stdout.write(`${first.body.created === true ? 'requested' : 'already requested'}: ${remedy.id} (${remedy.action} of ${remedy.stage} "${remedy.operation}" in ${remedy.service}): ${remedy.state}\n`);
    if (waitMs !== undefined) {
      const deadline = Date.now() + waitMs;
      let last = remedy.state;
      while (!FINAL.has(remedy.state) && Date.now() < deadline) {
        await sleep(POLL_MS);
        const next = await call(`${base}/api/v1/remedies/${encodeURIComponent(remedy.id)}`, { headers });
        if (next.body.error !== undefined) return fail(`${next.body.error.message} (${next.body.error.code})`, 1);
        remedy = next.body.remedy!;
        if (remedy.state !== last) io.stdout.write(`  ${remedy.state}${remedy.reason === undefined ? '' : `: ${remedy.reason}`}\n`);
        last = remedy.state;
      }
      if (!FINAL.has(remedy.state)) return fail(`still ${remedy.state} after ${Math.round(waitMs / 1000)} s; follow it with GET /api/v1/remedies/${remedy.id}`, 1);
    }
    if (flags.json === true) io.stdout.write(`${JSON.stringify(remedy, null, 2)}\n`);
    if (remedy.remedyTraceId !== undefined) io.stdout.write(`remedy trace: ${remedy.remedyTraceId}\n`);
    return remedy.state === 'failed' || remedy.state === 'expired' ? 1 : 0;
  } catch (err) {
    return fail((err as Error).message, 1);
  }
}

export function register(program: Command, io: CliIo = processIo): void {
  program
    .command('remedy')
    .description('repair a finding: ask the live instances of its service to replay the missing step (or undo a duplicate)')
    .argument('<finding-id>', 'the finding id (GET /api/v1/findings gives it: <trace id>-<span id>-<rule>)')
    .option('--server <url>', 'the Linktrace server')
    .option('--remedy-token <token>', 'the server\'s --remedy-token (or set LINKTRACE_REMEDY_TOKEN)')
    .option('--undo', 'undo a duplicate write instead of the rule\'s default action')
    .option('--dry-run', 'show what would run and where; queue nothing')
    .option('--wait [duration]', 'follow the remedy until it is verified, failed, expired or superseded (default 2m)')
    .option('--json', 'print the answer as JSON')
    .action(async (id: string, flags: RemedyFlags) => {
      io.setExitCode(await remedyCommand(id, flags, io));
    });
}
