/**
 * A pool worker's side of the client's on-demand primitives server (../primitives/host.ts): before
 * a task's first connection the worker asks its pool to start the server and waits for the answer.
 * One question at a time per worker; once answered yes, never asked again.
 */
import { PrimitiveError } from '../errors.js';
import type { FromChild, ToChild } from './protocol.js';

let asked: { promise: Promise<void>; settle(error: string | undefined): void } | undefined;
let served = false;

/** Resolves once the client's server listens; rejects with PRIMITIVES_UNREACHABLE when it could not start. */
export function askPool(send: (msg: FromChild) => void): Promise<void> {
  if (served) return Promise.resolve();
  if (!asked) {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    asked = {
      promise,
      settle: (error) => {
        if (error === undefined) {
          served = true;
          resolve();
        } else
          reject(
            new PrimitiveError('PRIMITIVES_UNREACHABLE', `the client could not start its primitives server: ${error}`),
          );
      },
    };
    send({ t: 'primitives' });
  }
  return asked.promise;
}

/** The pool's answer to {@link askPool}. */
export function poolAnswered(msg: Extract<ToChild, { t: 'primitives' }>): void {
  const q = asked;
  asked = undefined; // a failed start may be asked again by the next use
  q?.settle(msg.error);
}
