/**
 * The processes whose SDK reported spans it never delivered (queue full, collector down, unsent at
 * exit): traces through them may have gaps that are not bugs in the chain. Shown under the service
 * map; nothing at all when no process lost spans (or the server has no such route).
 */
import type { ReactNode } from 'react';
import { sdkDrops } from './api/sdk-drops.js';
import { formatTime } from './format.js';
import { useApi } from './use-api.js';

/** `reloadKey`: loaded again whenever it changes (with the map it sits under). */
export function SdkDropsTable({ reloadKey }: { reloadKey: string }): ReactNode {
  const loaded = useApi(`sdk-drops:${reloadKey}`, (signal) => sdkDrops(signal));
  if (loaded.state !== 'done') return null;
  const lossy = loaded.data.filter((r) => r.droppedSpans > 0);
  if (lossy.length === 0) return null;
  return (
    <section className="sdk-drops" aria-labelledby="sdk-drops-title">
      <h2 id="sdk-drops-title">Spans lost by SDKs</h2>
      <p className="note">
        These processes reported spans they recorded but never delivered. A trace through them with a missing hop may be whole: the
        hop is then marked “possibly dropped by the SDK”.
      </p>
      <table className="grid" aria-label="Spans lost by SDKs">
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">Instance</th>
            <th scope="col">Spans lost</th>
            <th scope="col">Last reported</th>
          </tr>
        </thead>
        <tbody>
          {lossy.map((r) => (
            <tr key={`${r.service}\u0000${r.instance}`}>
              <td>{r.service}</td>
              <td>{r.instance === '' ? '(unnamed)' : r.instance}</td>
              <td>{r.droppedSpans}</td>
              <td>{formatTime(r.reportedUs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
