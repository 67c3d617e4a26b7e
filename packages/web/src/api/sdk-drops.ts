/** `GET /api/v1/sdk-drops`: what each traced process's SDK reported it lost (latest value per instance). */
import type { SdkDropReport } from '@linktrace/model';
import { getJson } from './client.js';

export type { SdkDropReport };

export async function sdkDrops(signal?: AbortSignal): Promise<SdkDropReport[]> {
  return (await getJson<{ sdkDrops: SdkDropReport[] }>('sdk-drops', {}, signal)).sdkDrops;
}
