/**
 * What the AWS Lambda backend sends to the Burst worker function, and how a call's CloudWatch log
 * location travels back. Shared by the client backend and the Lambda handler, so it imports nothing.
 */
import type { StorageConfig } from '../../../storage/types.js';
import type { CallLocation } from '../../../worker/protocol.js';

/** Version of the event format; the handler refuses events of another version. */
export const LAMBDA_EVENT_VERSION = 1;

/** The payload of one asynchronous invocation of the worker function. */
export interface LambdaWorkerEvent {
  /** Always {@link LAMBDA_EVENT_VERSION}. */
  burst: number;
  /** How the worker re-creates storage (no secrets unless the user configured them explicitly). */
  storage: StorageConfig;
  bucket: string;
  jobKey: string;
  /** Call ids this invocation runs, as a call spec (`0-9,12`). */
  calls: string;
  attempt: number;
  /** Present when this invocation first invokes copies of the function for the rest of the calls. */
  fanout?: LambdaFanout;
}

/** The remote invoker's instructions: split `calls` into chunks, run the first, invoke the others. */
export interface LambdaFanout {
  /** Every call of the map, as a call spec. */
  calls: string;
  chunksize: number;
  /** The function to invoke (itself, normally). */
  functionName: string;
  /** Invocations in flight at once. */
  concurrency: number;
  /** Lambda API endpoint override (tests and emulators only). */
  endpoint?: string;
}

/** Where on CloudWatch a call's output went. */
export interface LambdaLogLocation {
  logGroup: string;
  logStream: string;
  requestId: string;
}

/** A call's log location as its stats carry it (a {@link CallLocation} of platform `aws_lambda`). */
export function lambdaLocation(l: LambdaLogLocation, region?: string): CallLocation {
  return {
    platform: 'aws_lambda',
    logGroup: l.logGroup,
    logStream: l.logStream,
    requestId: l.requestId,
    text: describeLogLocation(l, region),
  };
}

/** The CloudWatch location in a call's stats, if it ran on Lambda. */
export function parseLambdaLocation(location: CallLocation | undefined): LambdaLogLocation | undefined {
  if (location?.platform !== 'aws_lambda') return undefined;
  const { logGroup, logStream, requestId } = location;
  if (!logGroup || !logStream || !requestId) return undefined;
  return { logGroup, logStream, requestId };
}

/** A CloudWatch console link to a log stream, filtered to one request id. */
export function cloudWatchUrl(l: LambdaLogLocation, region: string): string {
  // The console's fragment escapes '/' and '[' etc. as '$252F' style ('%' itself becomes '$25').
  const esc = (s: string): string => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, '$');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${esc(l.logGroup)}/log-events/${esc(l.logStream)}$3FfilterPattern$3D${esc(`"${l.requestId}"`)}`;
}

/** One line naming a call's log location, for errors and `burst logs`. */
export function describeLogLocation(l: LambdaLogLocation, region?: string): string {
  const cli = `aws logs filter-log-events --log-group-name '${l.logGroup}' --log-stream-names '${l.logStream}' --filter-pattern '"${l.requestId}"'`;
  return `CloudWatch log group ${l.logGroup}, stream ${l.logStream}, request ${l.requestId}${region ? ` (${cloudWatchUrl(l, region)})` : ''}; or: ${cli}`;
}
