import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SandboxWorld, WorldSnapshot } from './state';

/** How often a changed world is written (a crash loses at most this much). */
const SAVE_EVERY_MS = 1_000;

/**
 * Keeps the sandbox's world in a JSON file (`npm start`: `.data/sandbox.json`, beside the dev
 * server's SQLite file), so a restarted demo finds the WABAs, templates and tokens its onboardings
 * were started with, as Temporal finds their runs. Written when it changed, at most once a second,
 * and on stop; atomically (a temporary file renamed).
 */
export class PersistedWorld {
  private last = '';
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly world: SandboxWorld,
    readonly file: string,
  ) {
    this.last = JSON.stringify(world.snapshot());
    this.timer = setInterval(() => this.save(), SAVE_EVERY_MS);
    this.timer.unref();
  }

  /** Restores the world from `file` when it exists (true), else leaves it as it is (false); then keeps it saved. */
  static open(world: SandboxWorld, file: string): { persisted: PersistedWorld; restored: boolean } {
    let restored = false;
    if (existsSync(file)) {
      const snapshot = JSON.parse(readFileSync(file, 'utf8')) as WorldSnapshot;
      if (snapshot.version !== 1) throw new Error(`${file}: unknown sandbox state version ${snapshot.version}; delete it to start afresh`);
      world.restore(snapshot);
      restored = true;
    }
    return { persisted: new PersistedWorld(world, file), restored };
  }

  /** Writes the world if it changed since the last write. */
  save(): void {
    const json = JSON.stringify(this.world.snapshot());
    if (json === this.last) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, json);
    renameSync(tmp, this.file);
    this.last = json;
  }

  close(): void {
    clearInterval(this.timer);
    this.save();
  }
}
