// Preloaded with --import by lazy-sdk.test.ts: prints every import of the AWS SDK (or Smithy) to stderr,
// so a test can tell whether a code path loaded it.
import { register } from 'node:module';

const hook = `
import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (/@aws-sdk|@smithy/.test(specifier)) writeSync(2, 'AWS-SDK-LOADED ' + specifier + '\\n');
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
