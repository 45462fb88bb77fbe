/**
 * Every parameter of the fan-out model, with where it comes from. "published" figures are quoted
 * from the cited source; "assumption" marks a value we chose because no source gives it (or gives
 * only a range), so read results that depend on it as "if this holds".
 */

/** A latency distribution: log-normal, given by its median and 99th percentile (ms). */
export interface Latency {
  medianMs: number;
  p99Ms: number;
}

export const PARAMS = {
  lambda: {
    /**
     * Concurrent executions per account and region, answered with 429 TooManyRequestsException above.
     * Published: AWS Lambda quotas, "Concurrent executions: 1,000" (default, raisable)
     * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
     */
    accountConcurrency: 1000,
    /**
     * New execution environments per function per 10 s. Published: AWS Lambda scaling behaviour
     * (since Nov 2023) "each function can scale by 1,000 execution environments every 10 seconds"
     * https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html
     */
    scaleUpPer10s: 1000,
    /**
     * Time the Invoke API takes to accept an asynchronous (`Event`) invocation. Assumption: 20 ms
     * median, 80 ms p99 (same-region HTTPS call; AWS publishes no figure). Consistent with Lithops'
     * "1,000 Lambdas all running within 2-4 s" from one client (ANCHORS.md).
     */
    invokeApi: { medianMs: 20, p99Ms: 80 } satisfies Latency,
    /**
     * Cold start of a Node.js function with a small zip (init + first handler entry). Published range:
     * Node.js cold starts of ~200-400 ms median, about 1 s at the tail (M. Shilkov, "Cold Starts in
     * AWS Lambda", https://mikhail.io/serverless/coldstarts/aws/ ; AWS "Operating Lambda: performance
     * optimization"). Assumption within that range: 300 ms median, 1,000 ms p99.
     */
    coldStart: { medianMs: 300, p99Ms: 1000 } satisfies Latency,
    /**
     * CPU time of one Invoke request in a remote invoker (AWS SDK v3: build, sign, send, parse).
     * Measured here: the client's profile of 1,000 Invokes spent ~1 ms of CPU per request on a quiet
     * core (2.5-5 ms under load); a 1,024 MB Lambda has ~0.6 vCPU. Assumption: 1.5 ms.
     */
    invokerCpuMs: 1.5,
    /** Warm start (handler entry on a reused environment). Assumption: 5 ms median, 30 ms p99. */
    warmStart: { medianMs: 5, p99Ms: 30 } satisfies Latency,
  },
  s3: {
    /**
     * Requests per second per partitioned prefix, answered with 503 SlowDown above. Published: "at
     * least 3,500 PUT/COPY/POST/DELETE or 5,500 GET/HEAD requests per second per partitioned prefix"
     * (Amazon S3 User Guide, "Best practices design patterns: optimizing Amazon S3 performance",
     * https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html). LIST is
     * counted with the reads. Modelled prefix: the key up to its last "/" (assumption: S3 splits
     * partitions adaptively and does not say where; a folder per partition is the usual reading).
     */
    writesPerPrefixPerS: 3500,
    readsPerPrefixPerS: 5500,
    /**
     * First-byte latency of small requests. The same guide says small-object latency is tens of ms
     * with a tail worth retrying "after 100-200 ms"; within that, assumption: GET/HEAD 15 ms median,
     * 80 ms p99; PUT/DELETE 25 ms median, 120 ms p99; LIST (one page of up to 1,000 keys) 40 ms
     * median, 150 ms p99.
     */
    get: { medianMs: 15, p99Ms: 80 } satisfies Latency,
    put: { medianMs: 25, p99Ms: 120 } satisfies Latency,
    list: { medianMs: 40, p99Ms: 150 } satisfies Latency,
    /**
     * Bandwidth of one connection, bytes/s. Published anchor: Lithops' ~99 GB/s aggregate S3 reads
     * from 1,000 Lambdas, about 99 MB/s each (ANCHORS.md / issue 22); the S3 guide's 85-90 MB/s per
     * request for EC2 is the same order. Used: 90 MB/s.
     */
    bytesPerSecondPerConnection: 90e6,
  },
  montecarlo: {
    /**
     * PyWren-IBM's Monte Carlo example: 100,000 forecasts on 1,000 concurrent invocations in ~70 s,
     * ~10,000 s when run locally (issue 22; PyWren-IBM / Lithops Monte Carlo notebook). So 0.1 s of
     * CPU per forecast and 100 forecasts per call. Assumption: one Lambda vCPU runs a forecast as
     * fast as the machine of that local figure (10 s of work per call).
     */
    forecasts: 100_000,
    calls: 1000,
    secondsPerForecast: 0.1,
    publishedWallS: 70,
    /** Result per call: the call's forecast summary. Assumption: 1 KiB. */
    resultBytes: 1024,
  },
} as const;

/** Draws from a log-normal distribution with the given median and 99th percentile. */
export function sample(l: Latency, random: () => number = Math.random): number {
  const sigma = Math.log(l.p99Ms / l.medianMs) / 2.3263;
  // Box-Muller: one standard normal draw.
  const u = 1 - random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  return l.medianMs * Math.exp(sigma * z);
}
