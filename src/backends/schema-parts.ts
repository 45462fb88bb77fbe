/**
 * Checks the built-in options schemas share, each with the message a user reads after the key path
 * ("slurm.cpusPerTask must be a positive integer, got 0"). Built with the zod they are given.
 */
import type { ZodNamespace } from './definition.js';

/** The common checks, built with `z`. Every one is optional (an unset key takes its default). */
export function parts(z: ZodNamespace) {
  const str = (what = 'a non-empty string') => z.string({ error: what }).min(1, { error: what }).optional();
  const intFrom = (min: number, what: string) =>
    z.number({ error: what }).int({ error: what }).min(min, { error: what });
  return {
    str,
    posInt: (what = 'a positive integer') => intFrom(1, what).optional(),
    nonNegInt: (what = 'a non-negative integer') => intFrom(0, what).optional(),
    intIn: (min: number, max: number) =>
      intFrom(min, `an integer from ${min} to ${max}`)
        .max(max, { error: `an integer from ${min} to ${max}` })
        .optional(),
    seconds: (what = 'a positive number of seconds') => z.number({ error: what }).positive({ error: what }).optional(),
    bool: () => z.boolean({ error: 'a boolean' }).optional(),
    url: () =>
      z
        .string({ error: 'an http:// or https:// URL' })
        .regex(/^https?:\/\/[^/]/, { error: 'an http:// or https:// URL' })
        .optional(),
    strings: (what = 'an array of strings') => z.array(z.string({ error: what }), { error: what }).optional(),
    nonEmptyStrings: (what = 'an array of non-empty strings') =>
      z.array(z.string({ error: what }).min(1, { error: what }), { error: what }).optional(),
    stringMap: (what = 'an object of string values') =>
      z.record(z.string(), z.string({ error: what }), { error: what }).optional(),
    oneOf: <const T extends readonly [string, ...string[]]>(values: T) =>
      z.enum(values, { error: values.map((v) => JSON.stringify(v)).join(' or ') }).optional(),
  };
}
