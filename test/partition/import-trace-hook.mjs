// Preloaded with --import by e2e.test.ts: prints every import of a module a worker must not load
// for partitions (the AWS SDK, bundlers, CLI and client-side partition modules) to stderr.
import { register } from 'node:module';

const hook = `
import { writeSync } from 'node:fs';
const FORBIDDEN = /@aws-sdk|@smithy|esbuild|picomatch|tinyglobby|commander|cli-progress|(^|\\/)(planner|inputs|chunking)\\.js$/;
export async function resolve(specifier, context, next) {
  if (FORBIDDEN.test(specifier)) writeSync(2, 'FORBIDDEN-IMPORT ' + specifier + '\\n');
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
