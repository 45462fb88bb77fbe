/**
 * Containment for the fs driver: a key's lexical path is checked before any I/O (no `..`, no absolute
 * keys), and its real path here, after symbolic links are resolved at every level, so a link inside
 * the root that points elsewhere cannot make a key read, write, list or delete a file outside it.
 *
 * The check resolves the deepest part of the path that exists (the rest is created by us, as real
 * folders). Opened files are checked again through `/proc/self/fd` where Linux provides it, which
 * closes the window between the check and the open for reads and for the temp file of a write.
 */
import { readlink, realpath } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { InvalidKeyError } from '../../errors.js';
import { isCode } from './errors.js';
import { quoteName } from '../keys.js';

/** The error for a key whose real path leaves the root: the same class as a `..` key. */
export function escapesRoot(bucket: string, key: string): InvalidKeyError {
  return new InvalidKeyError(
    `invalid key ${quoteName(key)} in bucket ${quoteName(bucket)}: its real path leaves the storage root (a symbolic link on its path points outside)`,
    { bucket, key },
  );
}

/** Knows the root's real path and tells whether other paths really lie inside it. */
export class RootGuard {
  private real: string | undefined;

  constructor(private readonly root: string) {}

  /** The root's real path (the configured root itself may be a link, e.g. `/tmp` on macOS). */
  private async realRoot(): Promise<string> {
    if (this.real !== undefined) return this.real;
    try {
      this.real = await realpath(this.root);
      return this.real;
    } catch {
      return this.root; // not created yet: nothing below it exists either
    }
  }

  private async within(real: string): Promise<boolean> {
    const root = await this.realRoot();
    return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  }

  /** True when the deepest existing part of `path` resolves inside the root. */
  async contains(path: string): Promise<boolean> {
    for (let p = path; ; p = dirname(p)) {
      try {
        return await this.within(await realpath(p));
      } catch (err) {
        // A loop of links is not a way out, but it is not inside either.
        if (isCode(err, 'ELOOP')) return false;
        if (!isCode(err, 'ENOENT', 'ENOTDIR')) throw err;
        if (dirname(p) === p || p === this.root) return true;
      }
    }
  }

  /** Throws {@link escapesRoot} unless `path` (the file of `key`) resolves inside the root. */
  async assertContains(path: string, bucket: string, key: string): Promise<void> {
    if (!(await this.contains(path))) throw escapesRoot(bucket, key);
  }

  /**
   * Checks an opened file's real path (Linux `/proc/self/fd`), so a folder swapped for a link between
   * the check and the open is caught. Where `/proc` is missing, the path check alone applies.
   */
  async assertOpenedInside(fd: number, bucket: string, key: string): Promise<void> {
    let real: string;
    try {
      real = await readlink(`/proc/self/fd/${fd}`);
    } catch {
      return;
    }
    if (!real.startsWith('/')) return; // not a path (e.g. an anonymous file): nothing to compare
    if (!(await this.within(real.replace(/ \(deleted\)$/, '')))) throw escapesRoot(bucket, key);
  }
}
