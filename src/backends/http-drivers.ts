/**
 * The HTTP backends by registry name, for the one lazy registry entry they share in index.ts. Each is
 * a thin driver over http-invoker.ts, so loading the three costs no more than loading one.
 */
export { knative } from './knative.js';
export { cloudrun } from './cloudrun.js';
export { codeEngine as code_engine } from './code-engine.js';
