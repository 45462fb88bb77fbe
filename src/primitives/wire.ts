/** Bytes inside the JSON lines of the in-process primitives' socket (./local-server.ts, ./socket-store.ts). */

/** A value as sent: a Uint8Array becomes `{ $b: base64 }`. */
export function toWire(v: unknown): unknown {
  return v instanceof Uint8Array ? { $b: Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64') } : v;
}

/** The inverse of {@link toWire}; JSON's `null` (how an array carries `undefined`) is `undefined` again. */
export function fromWire(v: unknown): unknown {
  if (v === null) return undefined;
  return typeof v === 'object' && v !== null && typeof (v as { $b?: unknown }).$b === 'string'
    ? new Uint8Array(Buffer.from((v as { $b: string }).$b, 'base64'))
    : v;
}
