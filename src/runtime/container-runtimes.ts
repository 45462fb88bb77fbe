/**
 * The runtime managers of the container platforms by backend name, for the one lazy entry they share
 * in index.ts. Loading them loads no platform SDK: @kubernetes/client-node and @google-cloud/run are
 * imported only by a Knative or Cloud Run command that calls the platform.
 */
export { knativeRuntimes as knative } from '../backends/knative/runtime.js';
export { cloudRunRuntimes as cloudrun } from '../backends/cloudrun/runtime.js';
export { codeEngineRuntimes as code_engine } from '../backends/code_engine/runtime.js';
