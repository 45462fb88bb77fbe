/**
 * Listing for the fs driver: walks a bucket folder and yields its files as objects in S3 key order,
 * without reading folders the query cannot reach (outside the prefix, before startAfter, or rolled
 * up whole under a delimiter).
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX, compareKeys } from '../keys.js';
import { commonPrefixOf, type ListQuery } from '../listing.js';
import type { ListEntry, ObjectInfo } from '../types.js';

/** An etag for a file: inode, mtime (ns) and size change whenever an object is rewritten (a rename). */
export function fileEtag(s: { ino: bigint; mtimeNs: bigint; size: bigint }): string {
  return `${s.ino.toString(16)}-${s.mtimeNs.toString(16)}-${s.size.toString(16)}`;
}

/** Tells whether a path really lies inside the store's root (symbolic links resolved). */
export type Inside = (path: string) => Promise<boolean>;

const everywhere: Inside = () => Promise.resolve(true);

interface Item {
  /** A symbolic link: its target must be checked before it counts as an object. */
  link: boolean;
  name: string;
  /** The key for a file, the key prefix (ending in `/`) for a folder: what orders the folder's items. */
  sortKey: string;
  isDir: boolean;
}

/** True when every key starting with `dirKey` sorts at or before `startAfter`. */
function entirelyBefore(dirKey: string, startAfter: string | undefined): boolean {
  return startAfter !== undefined && !startAfter.startsWith(dirKey) && compareKeys(startAfter, dirKey) > 0;
}

async function readItems(dir: string, dirKey: string, prefix: string): Promise<Item[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return []; // removed while listing, or a file on the path
    throw err;
  }
  const items: Item[] = [];
  for (const e of entries) {
    if (e.name.startsWith(TEMP_PREFIX)) continue;
    // Symlinks count as objects when they point at files; linked folders are not followed (no cycles).
    const isDir = e.isDirectory();
    if (!isDir && !e.isFile() && !e.isSymbolicLink()) continue;
    const sortKey = dirKey + e.name + (isDir ? '/' : '');
    if (isDir ? sortKey.startsWith(prefix) || prefix.startsWith(sortKey) : sortKey.startsWith(prefix)) {
      items.push({ name: e.name, sortKey, isDir, link: e.isSymbolicLink() });
    }
  }
  return items.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
}

/**
 * Entries under `dir` (whose keys start with `dirKey`) matching `query`, in key order. Folders whose
 * keys all roll up into one common prefix are yielded as that prefix (when they hold an object after
 * startAfter); `groupByDelimiter` does the rest.
 */
export async function* walkFolder(
  dir: string,
  dirKey: string,
  query: ListQuery,
  inside: Inside = everywhere,
): AsyncGenerator<ListEntry> {
  const { prefix, startAfter, delimiter } = query;
  for (const item of await readItems(dir, dirKey, prefix)) {
    const path = join(dir, item.name);
    if (item.isDir) {
      if (entirelyBefore(item.sortKey, startAfter)) continue;
      const common = item.sortKey.startsWith(prefix) ? commonPrefixOf(item.sortKey, prefix, delimiter) : undefined;
      if (common !== undefined) {
        if (await holdsObject(path, item.sortKey, startAfter)) yield { prefix: common };
        continue;
      }
      yield* walkFolder(path, item.sortKey, query, inside);
      continue;
    }
    if (startAfter !== undefined && compareKeys(item.sortKey, startAfter) <= 0) continue;
    // A link to a file outside the root is not an object of this store.
    if (item.link && !(await inside(path))) continue;
    const info = await fileInfo(path, item.sortKey);
    if (info) yield info;
  }
}

/** True when the folder holds at least one object after `startAfter`. */
export async function holdsObject(dir: string, dirKey: string, startAfter: string | undefined): Promise<boolean> {
  const query: ListQuery = { bucket: '', prefix: dirKey, delimiter: undefined, startAfter };
  for await (const _ of walkFolder(dir, dirKey, query)) return true;
  return false;
}

async function fileInfo(path: string, key: string): Promise<ObjectInfo | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    if (!s.isFile()) return undefined;
    return { key, size: Number(s.size), etag: fileEtag(s), lastModified: new Date(Number(s.mtimeMs)) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined; // deleted meanwhile, or a dangling link
    throw err;
  }
}
