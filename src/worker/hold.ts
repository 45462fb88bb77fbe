/**
 * Whether a worker process keeps its parent alive. An idle pool must not: a script that ends without
 * `close()` exits after its last await, and its workers, seeing the IPC channel close, exit too
 * (child.ts exits on 'disconnect'). While calls run, the process, its IPC channel and its pipes are
 * referenced again, so the client waits for its results.
 */
import type { ChildProcess } from 'node:child_process';

interface Refable {
  ref?(): unknown;
  unref?(): unknown;
}

/** References (`held`) or unreferences the process, its IPC channel and its stdio pipes. */
export function holdChild(child: ChildProcess, held: boolean): void {
  const handles: Array<Refable | null | undefined> = [
    child,
    child.channel as Refable | null | undefined,
    ...(child.stdio as Array<Refable | null>),
  ];
  for (const handle of handles) {
    if (held) handle?.ref?.();
    else handle?.unref?.();
  }
}
