/**
 * The AWS Lambda backend's definition: each chunk of calls is one asynchronous invocation of a
 * function built from Burst's worker (backend.ts; the function and its layer: runtime.ts, build.ts,
 * role.ts; what runs in it: worker/).
 */
import type { BackendDefinition } from '../definition.js';
import { awsLambdaSchema, type AwsLambdaOptions } from './options.js';
import { parseLambdaLocation } from './worker/event.js';

export type { AwsLambdaOptions } from './options.js';

/** The `aws_lambda` backend. */
export const awsLambdaBackend: BackendDefinition<ReturnType<typeof awsLambdaSchema>, 'aws_lambda', AwsLambdaOptions> = {
  name: 'aws_lambda',
  summary: 'AWS Lambda functions (one invocation per chunk of calls)',
  options: awsLambdaSchema,
  create: async (options, context) => (await import('./backend.js')).awsLambda(options, context),
  runtime: async () => (await import('./runtime.js')).awsLambdaRuntimes,
  workerEntry: 'backends/aws_lambda/worker/entry',
  prices: {
    currency: 'USD',
    perGbSecond: 0.0000166667,
    perRequest: 0.0000002,
    granularityMs: 1,
    defaultMemoryMB: 1024,
    note: 'AWS Lambda x86 on-demand list prices (us-east-1), without free tier, storage or data transfer',
    // A chunk of calls is one request, billed for the invocation's span: its calls name it.
    invocationOf: (location) => parseLambdaLocation(location)?.requestId,
  },
};
