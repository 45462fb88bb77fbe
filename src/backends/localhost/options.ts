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
}

/** The schema of {@link LocalhostOptions}. */
export function localhostSchema(z: ZodNamespace) {
  return z.object({ channel: parts(z).oneOf(['ipc', 'storage']) });
}

/** Compile-time tie of {@link LocalhostOptions} to its schema. */
export type LocalhostOptionsChecked = OptionsMatch<
  SameOptions<LocalhostOptions, Zod.input<ReturnType<typeof localhostSchema>>>
>;
