/**
 * Stats of calls: per-job summaries, their text form, cost estimates and SVG plots, and reading jobs
 * back from storage. The plotting libraries load on first use only.
 */
export { summarize, summarizeJob, distribution, type SummaryOptions } from './summary.js';
export { formatSummary, formatDuration, formatBytes, formatCost } from './format.js';
export { estimateCost, registerPrices, pricesOf, pricedBackends, type PriceTable } from './cost.js';
export { plotTimeline, timelineSvg, concurrencySvg, histogramSvg, type PlotOptions } from './plot.js';
export { readJobStatuses, type StoredCallStatus, type StatusCache } from '../job/reader.js';
export {
  listExecutors,
  listJobs,
  readJobInfo,
  resolveJob,
  readJobCalls,
  callsOf,
  countCalls,
  type JobInfo,
  type JobCounts,
} from './catalog.js';
export type { CallLike, CallState, CallTimes, CostEstimate, Distribution, JobSummary } from './types.js';
