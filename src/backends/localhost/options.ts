/** Options of the localhost backend (the `localhost` section) and their schema. */
import type { z as Zod } from 'zod';
import type { OptionsMatch, SameOptions, ZodNamespace } from '../definition.js';
import { parts } from '../schema-parts.js';

/** Options of the localhost backend. */
export interface LocalhostOptions {
  /**
   * How calls reach the workers: `'ipc'` (fast, in-memory) or `'storage'` (through the storage, as
   * remote backends do).
   * @default 'ipc'
   */
  channel?: 'ipc' | 'storage';
  /**
   * What a worker of the IPC channel is: `'thread'`, a worker thread of this process (starts in tens
   * of milliseconds), or `'process'`, a child process (also survives native crashes, `process.abort()`
   * and signals, and may call `process.chdir()`). Either way `process.exit()`, an uncaught error, a
   * runaway loop past its timeout or the heap limit fails only the call that caused it. The storage
   * channel always uses processes.
   * @default 'thread'
   */
  isolation?: 'thread' | 'process';
}

/** The schema of {@link LocalhostOptions}. */
export function localhostSchema(z: ZodNamespace) {
  return z.object({
    channel: parts(z).oneOf(['ipc', 'storage']),
    isolation: parts(z).oneOf(['thread', 'process']),
  });
}

/** Compile-time tie of {@link LocalhostOptions} to its schema. */
export type LocalhostOptionsChecked = OptionsMatch<
  SameOptions<LocalhostOptions, Zod.input<ReturnType<typeof localhostSchema>>>
>;
