/**
 * The runtime managers of the container platforms by backend name, for the one lazy entry they share
 * in index.ts (loading them does not load @kubernetes/client-node: only a Knative command does).
 */
export { knativeRuntimes as knative } from './knative.js';
export { cloudrun, code_engine } from './platform-cli.js';
