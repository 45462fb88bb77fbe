/**
 * The HTTP backends by registry name, for the one lazy registry entry they share in index.ts. Each is
 * a thin driver over http/invoker.ts, so loading the three costs no more than loading one.
 */
export { knative } from './knative/backend.js';
export { cloudrun } from './cloudrun/backend.js';
export { codeEngine as code_engine } from './code_engine/backend.js';
