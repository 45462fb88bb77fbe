/**
 * Hostile input for the decode path (issue 8): random bytes either decode or fail with a
 * SerializationError; never a crash, a hang or another error type. Also truncations of valid data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode } from '../../src/serialize/index.ts';
import { SerializationError } from '../../src/errors.ts';

function decodesOrRefuses(bytes: Uint8Array): void {
  try {
    decode(bytes, 'fuzzed value');
  } catch (err) {
    assert.ok(err instanceof SerializationError, `unexpected ${String(err)}`);
    assert.match(err.message, /cannot decode fuzzed value/);
  }
}

test('random bytes decode or raise SerializationError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => decodesOrRefuses(bytes)),
    { numRuns: 2000 },
  );
});

test('random bytes after a valid header decode or raise SerializationError', () => {
  const header = encode(0).subarray(0, 2);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), (tail) => decodesOrRefuses(Buffer.concat([header, tail]))),
    { numRuns: 2000 },
  );
});

test('every truncation of a valid encoding is refused cleanly', () => {
  fc.assert(
    fc.property(
      fc.anything({ withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true }),
      (value) => {
        let bytes: Uint8Array;
        try {
          bytes = encode(value);
        } catch {
          return; // fc.anything can produce values V8 cannot clone (e.g. with symbols); not this test's concern
        }
        for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 16)))
          decodesOrRefuses(bytes.subarray(0, cut));
      },
    ),
    { numRuns: 300 },
  );
});
