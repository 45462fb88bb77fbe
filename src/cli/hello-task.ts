/**
 * The functions `burst hello` and `burst test` ship to the workers. They live in a module of their
 * own, importing only Node built-ins, so their bundles stay tiny.
 */
import { hostname } from 'node:os';

/** What one hello call reports: its result and where it ran. */
export interface HelloResult {
  input: number;
  output: number;
  hostname: string;
  pid: number;
  node: string;
}

/** Squares its input and says where it ran. */
export function helloTask(x: number): HelloResult {
  return { input: x, output: x * x, hostname: hostname(), pid: process.pid, node: process.version };
}
