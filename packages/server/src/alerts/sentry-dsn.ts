/**
 * A Sentry DSN, `https://<public key>@<host>[/<path>]/<project id>`, and the envelope endpoint it
 * names (`<scheme>://<host>[/<path>]/api/<project id>/envelope/`).
 */
import { ConfigError } from '../config.js';

export interface SentryDsn {
  dsn: string;
  publicKey: string;
  projectId: string;
  envelopeUrl: string;
}

export function parseSentryDsn(dsn: string, what = '--sentry-dsn'): SentryDsn {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw new ConfigError(`${what}: "${dsn}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${what}: the DSN must be an http or https URL`);
  if (url.username === '') throw new ConfigError(`${what}: the DSN has no public key (https://<key>@<host>/<project id>)`);
  const parts = url.pathname.split('/').filter((p) => p !== '');
  const projectId = parts.pop();
  if (projectId === undefined || !/^\d+$/.test(projectId)) throw new ConfigError(`${what}: the DSN must end with a numeric project id`);
  const prefix = parts.length === 0 ? '' : `/${parts.join('/')}`;
  return {
    dsn,
    publicKey: decodeURIComponent(url.username),
    projectId,
    envelopeUrl: `${url.protocol}//${url.host}${prefix}/api/${projectId}/envelope/`,
  };
}
