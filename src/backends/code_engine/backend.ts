/**
 * The IBM Cloud Code Engine backend: a Code Engine application (which is a Knative Service) running
 * Burst's worker image. Code Engine does not check IAM on requests to an application, so a public
 * application is protected by the worker's shared secret: set `BURST_SERVE_TOKEN` on the application
 * and the same value as `code_engine.token`.
 *
 * The application itself is created by `burst runtime deploy --backend code_engine`
 * (runtime.ts beside this file). What it leaves out: Code Engine batch jobs.
 */
import type { BackendContext, ComputeBackend } from '../types.js';
import { httpBackend, type HttpInvokerOptions } from '../http/invoker.js';

/** Options of the Code Engine backend (`code_engine: { url, token, concurrency }`). */
export type CodeEngineOptions = HttpInvokerOptions;

/** Creates the Code Engine backend. */
export function codeEngine(options: CodeEngineOptions, context: BackendContext): ComputeBackend {
  return httpBackend({
    name: 'code_engine',
    options,
    context,
    hint: (status) =>
      status === 401
        ? "set code_engine.token to the application's BURST_SERVE_TOKEN"
        : status === 404
          ? "is code_engine.url the URL of the application (ibmcloud ce application get -n NAME --output url), and does it use this client's storage (its BURST_STORAGE_CONFIG)?"
          : undefined,
  });
}
