/**
 * The checker's restart point: `pendingSinceUs`, the arrival time (server clock, µs) of the oldest
 * trace not yet evaluated. Every span stored before it belongs to a trace that has been checked
 * since, so a restart only has to re-open traces with spans from that time on. Written by
 * replacing the file (write, then rename), so a crash leaves the previous checkpoint or the new one.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Checkpoint {
  pendingSinceUs: number;
}

export class CheckpointFile {
  readonly path: string;
  private readonly temp: string;
  private ready = false;

  constructor(readonly dir: string) {
    this.path = join(dir, 'checkpoint.json');
    this.temp = join(dir, 'checkpoint.json.tmp');
  }

  /** The stored checkpoint; undefined when there is none. A damaged file counts as none (and is reported). */
  async read(warn: (line: string) => void): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const v = JSON.parse(text) as Partial<Checkpoint>;
      if (typeof v.pendingSinceUs === 'number' && Number.isFinite(v.pendingSinceUs)) return { pendingSinceUs: v.pendingSinceUs };
    } catch {
      // reported below
    }
    warn(`chain checker: ignoring the damaged checkpoint ${this.path}`);
    return undefined;
  }

  async write(checkpoint: Checkpoint): Promise<void> {
    if (!this.ready) {
      await mkdir(this.dir, { recursive: true });
      this.ready = true;
    }
    await writeFile(this.temp, `${JSON.stringify({ pendingSinceUs: checkpoint.pendingSinceUs })}\n`);
    await rename(this.temp, this.path);
  }
}
