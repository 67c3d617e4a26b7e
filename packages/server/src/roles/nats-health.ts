/** `/healthz`'s NATS part: connected and the streams set up, or why not. */
import type { NatsLink } from './nats-link.js';
import type { HealthPart } from './role-app.js';

export function natsHealth(link: NatsLink, more: () => object = () => ({})): HealthPart {
  return {
    name: 'nats',
    check() {
      const status = link.status();
      const detail = { ...status, ...more() };
      return Promise.resolve(status.connected ? { detail } : { detail, problem: status.error ?? 'not connected' });
    },
  };
}
