import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../infra/logger.js';

/**
 * The file the bundled emulators keep their state in across restarts
 * (`EMULATOR_STATE_FILE`, dev only): one JSON object with a section per
 * emulator (`account`, `dating`), so both emulators of one process share it.
 *
 * - Loaded once at start. A file that cannot be read as this format (bad
 *   JSON, another version, a section its emulator refuses) is reported on
 *   the log and copied to `<file>.corrupt-<time>` so nothing is lost; the
 *   emulators concerned start empty (a broken dev file never stops
 *   `npm start`) and the next save replaces the file.
 * - Saved after changes, debounced (`SAVE_DELAY_MS`), atomically: written to
 *   a temporary file beside it, then renamed over it, so a crash leaves the
 *   old or the new state, never half of one. Mode 0600: the file holds the
 *   emulated users' passwords, codes and session tokens.
 * - `flush()` (on close) writes what is pending at once.
 */

/** Changes are saved this long after the first one that is not yet saved (chosen). */
export const SAVE_DELAY_MS = 200;

const VERSION = 1;

export interface StateSection {
  /** The section's current content, JSON-serializable. */
  snapshot(): unknown;
  /** Takes over what was saved; answers why not (then nothing was taken over), or null. */
  restore(saved: unknown): string | null;
}

export class EmulatorStateFile {
  readonly #sections = new Map<string, StateSection>();
  #loaded: Record<string, unknown> = {};
  #timer: NodeJS.Timeout | undefined;
  /** The write under way, if any; saves never overlap. */
  #writing: Promise<void> | undefined;
  #dirtyWhileWriting = false;

  private constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** Reads `path` (a missing file is an empty state). Never throws for the file's content. */
  static async open(path: string, logger: Logger): Promise<EmulatorStateFile> {
    const file = new EmulatorStateFile(path, logger);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return file;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      await file.setAside('emulator state file unreadable: the emulators start empty', 'not valid JSON');
      return file;
    }
    const record = parsed as { version?: unknown; sections?: unknown };
    if (typeof parsed !== 'object' || parsed === null || record.version !== VERSION || typeof record.sections !== 'object' || record.sections === null) {
      await file.setAside('emulator state file unreadable: the emulators start empty', `not an emulator state file of version ${VERSION}`);
      return file;
    }
    file.#loaded = record.sections as Record<string, unknown>;
    return file;
  }

  /**
   * Restores the section from what the file held and keeps it saved from now
   * on; answers the function its emulator calls after every change. A
   * section that cannot be restored is reported (the file is copied aside):
   * that emulator starts empty, the others keep what they restored.
   */
  async attach(name: string, section: StateSection): Promise<() => void> {
    const saved = this.#loaded[name];
    if (saved !== undefined) {
      const problem = section.restore(saved);
      if (problem === null) {
        this.logger.info(`emulator state of ${name} restored`, { file: this.path });
      } else {
        delete this.#loaded[name];
        await this.setAside(`emulator state of ${name} unreadable: that emulator starts empty`, problem);
      }
    }
    this.#sections.set(name, section);
    return () => this.#schedule();
  }

  /** Writes pending changes now; resolves once the file holds them. */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#save();
    }
    while (this.#writing) await this.#writing;
  }

  #schedule(): void {
    if (this.#writing) {
      this.#dirtyWhileWriting = true;
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.#save();
    }, SAVE_DELAY_MS);
  }

  async #save(): Promise<void> {
    if (this.#writing) {
      this.#dirtyWhileWriting = true;
      return this.#writing;
    }
    // Sections not running in this process (e.g. a configured upstream) keep what the file had.
    const sections: Record<string, unknown> = { ...this.#loaded };
    for (const [name, section] of this.#sections) sections[name] = section.snapshot();
    const text = JSON.stringify({ version: VERSION, savedAt: new Date().toISOString(), sections });
    this.#writing = this.#write(text).finally(() => {
      this.#writing = undefined;
      if (this.#dirtyWhileWriting) {
        this.#dirtyWhileWriting = false;
        this.#schedule();
      }
    });
    return this.#writing;
  }

  async #write(text: string): Promise<void> {
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, this.path);
    } catch (error) {
      this.logger.error('emulator state not saved', { file: this.path, error });
    }
  }

  /** Keeps the unreadable file as `<file>.corrupt-<time>` (a copy: the other sections are saved anew). */
  private async setAside(message: string, reason: string): Promise<void> {
    const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      await copyFile(this.path, aside);
    } catch {
      // Gone meanwhile: nothing to keep.
    }
    this.logger.error(message, { file: this.path, reason, keptAs: aside });
  }
}

/** The state file of `EMULATOR_STATE_FILE` (resolved from the working directory), or none when it is `off` (undefined). */
export async function openStateFile(path: string | undefined, logger: Logger): Promise<EmulatorStateFile | undefined> {
  return path === undefined ? undefined : EmulatorStateFile.open(resolve(path), logger);
}
