/**
 * A RemedyAgent configured like the rest of the SDK, from the environment: the server from
 * `LINKTRACE_ENDPOINT` (default http://localhost:4318), its token from `LINKTRACE_TOKEN`, the secret
 * from `LINKTRACE_REMEDY_SECRET`. Without a secret there is nothing to verify deliveries with: no agent.
 */
import type { Tracing } from '../trace/tracing.js';
import { RemedyAgent, type RemedyAgentOptions } from './remedy-agent.js';

const DEFAULT_ENDPOINT = 'http://localhost:4318';

export function remedyAgentFromEnv(
  tracing: Tracing,
  env: Record<string, string | undefined> = process.env,
  more: Partial<Omit<RemedyAgentOptions, 'tracing' | 'endpoint' | 'secret' | 'token'>> = {},
): RemedyAgent | undefined {
  const secret = env.LINKTRACE_REMEDY_SECRET?.trim();
  if (secret === undefined || secret === '') return undefined;
  const endpoint = env.LINKTRACE_ENDPOINT?.trim() || DEFAULT_ENDPOINT;
  const token = env.LINKTRACE_TOKEN?.trim();
  return new RemedyAgent({ ...more, tracing, endpoint, secret, ...(token !== undefined && token !== '' && { token }) });
}
