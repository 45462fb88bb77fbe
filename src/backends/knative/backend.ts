/**
 * The Knative backend: calls run in a Knative Service whose container is Burst's worker image
 * (`burst worker serve`, built and deployed by `burst runtime deploy --backend knative`). Each chunk
 * of calls is one HTTP request to the service; Knative scales the pods by requests in flight.
 *
 * What it leaves out: looking the URL up from the cluster (give `knative.url`, e.g. from
 * `kn service describe burst-worker -o url`), and Knative Eventing.
 */
import type { BackendContext, ComputeBackend } from '../types.js';
import { httpBackend, type HttpInvokerOptions } from '../http/invoker.js';

/** Options of the Knative backend (`new FunctionExecutor({ backend: 'knative', knative: {...} })`). */
export type KnativeOptions = HttpInvokerOptions;

/** Creates the Knative backend. */
export function knative(options: KnativeOptions, context: BackendContext): ComputeBackend {
  return httpBackend({
    name: 'knative',
    options,
    context,
    hint: (status) =>
      status === 401
        ? 'the service has BURST_SERVE_TOKEN set: pass the same value as knative.token'
        : status === 404
          ? 'is knative.url the URL of a service running "burst worker serve", and does the service use this client\'s storage (its BURST_STORAGE_CONFIG)?'
          : undefined,
  });
}
