/**
 * Where the client's in-process primitives will listen, chosen before the server starts: an IPC job's
 * workers get the path and token in their environment at once, and the client starts the server
 * (./local-server.ts) only when one of its tasks first uses `ctx.primitives` (./host.ts).
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A local endpoint chosen but not yet served. */
export interface PlannedEndpoint {
  /** The folder the server creates (0700) for its socket; it must not exist before. */
  dir: string;
  socket: string;
  token: string;
}

/** A fresh unguessable folder name under the temp dir, and a fresh token. Creates nothing. */
export function planLocalEndpoint(): PlannedEndpoint {
  const dir = join(tmpdir(), `burst-prim-${randomBytes(9).toString('base64url')}`);
  return { dir, socket: join(dir, 's'), token: randomBytes(24).toString('hex') };
}
