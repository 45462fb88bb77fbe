/**
 * The rich display of the tslab kernel this process runs in, if any. tslab hands each cell a
 * `require` that answers `require("tslab")` with its own display API, kept in `globalThis.__tslab__`;
 * Burst reaches it there, so it needs no dependency on tslab.
 */

/** One display entry of a cell; with an id, each call replaces the previous content in place. */
export interface TslabDisplay {
  text(s: string): void;
  html(s: string): void;
  svg(s: string): void;
}

interface TslabApi {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

/** tslab's display API when this process is a tslab kernel, else undefined. */
export function tslabApi(): TslabApi | undefined {
  const holder = (globalThis as { __tslab__?: { require?: (id: string) => unknown } }).__tslab__;
  if (typeof holder?.require !== 'function') return undefined;
  try {
    const api = holder.require('tslab') as Partial<TslabApi> | undefined;
    return api && typeof api.newDisplay === 'function' && api.display ? (api as TslabApi) : undefined;
  } catch {
    return undefined;
  }
}
