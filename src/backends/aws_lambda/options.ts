/**
 * Options of the AWS Lambda backend and its runtimes (the `aws_lambda` config section), their
 * validation, and the names Burst gives what it creates. Shared by the backend and the runtime
 * manager, so both derive the same function name from the same configuration.
 */
import type { z as Zod } from 'zod';
import type { OptionsMatch, SameOptions, ZodNamespace } from '../definition.js';
import { checkBackendOptions } from '../options-check.js';
import { parts } from '../schema-parts.js';
import { VERSION } from '../../version.js';

/** Options of the AWS Lambda backend (`new FunctionExecutor({ backend: 'aws_lambda', aws_lambda: {...} })`). */
export interface AwsLambdaOptions {
  /** AWS region of the functions. @default process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? the profile's region */
  region?: string;
  /** Profile of the AWS shared config files for credentials and region. @default process.env.AWS_PROFILE ?? 'default' */
  profile?: string;
  /** Lambda API endpoint override, for local emulators and tests. @default the AWS endpoint of the region */
  endpoint?: string;
  /** Runtime name: the function is `burst-<runtime>-<memory>mb-<burst version>`. @default 'default' */
  runtime?: string;
  /** Use this function instead of the derived name (a function you deployed yourself). @default derived */
  functionName?: string;
  /** Memory of the function in MB when the executor sets no `runtimeMemory` (Lambda allows 128–10240). @default 1024 */
  memory?: number;
  /** `Invoke` requests in flight at once from the client (and from a remote invoker). @default 64 */
  invokeConcurrency?: number;
  /**
   * Let a first invocation invoke the rest of a map (as Lithops' remote invoker does), so the client's
   * bandwidth and latency are not the limit: `true` for maps of at least 1,000 calls, or the number of
   * calls from which to do so. The function's role needs `lambda:InvokeFunction` on itself (the role
   * `burst runtime deploy` creates has it); `false` to always invoke from the client.
   * @default true (maps of at least 1,000 calls)
   */
  remoteInvoker?: boolean | number;
  /** The function's timeout in seconds (at most 900); also how long the client waits for a silent call. @default 900 */
  functionTimeout?: number;
  /** Seconds an asynchronous event may wait in Lambda's queue before it is dropped (60–21600). @default 600 */
  maxEventAge?: number;
  /** IAM role of the function; when unset, deploy creates `burst-lambda-worker` with a least-privilege policy. @default created */
  roleArn?: string;
  /** Buckets besides Burst's own the created role may read and write (your data). @default [] */
  dataBuckets?: string[];
  /** Instruction set of the function. @default 'x86_64' */
  architecture?: 'x86_64' | 'arm64';
  /** Lambda's Node.js runtime identifier. @default 'nodejs20.x' */
  nodeRuntime?: string;
  /**
   * Whether s3 access keys set explicitly in the storage configuration travel in the invocation event
   * (`'config'`: needed for stores the role cannot reach, such as Ceph or R2), or the function always
   * uses its role (`'role'`). Keys from the client's default chain (environment, ~/.aws) never travel.
   * @default 'config'
   */
  storageCredentials?: 'config' | 'role';
  /** Bucket (in the function's region) for code zips over Lambda's 50 MB direct-upload limit. @default none */
  codeBucket?: string;
  /** Extra layer ARNs for the function. @default [] */
  layers?: string[];
  /** Extra tags on everything Burst creates. @default {} */
  tags?: Record<string, string>;
}

/** Every option resolved. */
export type ResolvedLambdaOptions = Required<
  Omit<
    AwsLambdaOptions,
    'region' | 'profile' | 'endpoint' | 'functionName' | 'roleArn' | 'codeBucket' | 'remoteInvoker'
  >
> &
  Pick<AwsLambdaOptions, 'region' | 'profile' | 'endpoint' | 'functionName' | 'roleArn' | 'codeBucket'> & {
    /** Calls from which the remote invoker is used; Infinity when off. */
    remoteInvoker: number;
  };

/** The name prefix of everything Burst creates on Lambda and IAM. */
export const NAME_PREFIX = 'burst-';
/** The role deploy creates when none is given. */
export const ROLE_NAME = 'burst-lambda-worker';
/** Tags that mark what Burst created. */
export const TAG_MANAGED = 'burst:managed';
export const TAG_VERSION = 'burst:version';
export const TAG_RUNTIME = 'burst:runtime';
export const TAG_MEMORY = 'burst:memory';

/** The schema of {@link AwsLambdaOptions}. */
export function awsLambdaSchema(z: ZodNamespace) {
  const p = parts(z);
  const invoker = 'true, false or a number of calls of at least 2';
  return z.object({
    region: p.str(),
    profile: p.str(),
    endpoint: p.url(),
    runtime: z
      .string({ error: '1 to 24 letters, digits or underscores' })
      .regex(/^[A-Za-z0-9_]{1,24}$/, { error: '1 to 24 letters, digits or underscores' })
      .optional(),
    functionName: p.str(),
    memory: p.intIn(128, 10240),
    invokeConcurrency: p.intIn(1, 10_000),
    remoteInvoker: z.union([z.boolean(), z.number().int().min(2)], { error: invoker }).optional(),
    functionTimeout: p.intIn(1, 900),
    maxEventAge: p.intIn(60, 21_600),
    roleArn: p.str(),
    dataBuckets: p.nonEmptyStrings(),
    architecture: p.oneOf(['x86_64', 'arm64']),
    nodeRuntime: p.str(),
    storageCredentials: p.oneOf(['config', 'role']),
    codeBucket: p.str(),
    layers: p.nonEmptyStrings(),
    tags: p.stringMap('an object of strings'),
  });
}

/** Compile-time tie of {@link AwsLambdaOptions} to its schema. */
export type AwsLambdaOptionsChecked = OptionsMatch<
  SameOptions<AwsLambdaOptions, Zod.input<ReturnType<typeof awsLambdaSchema>>>
>;

/** Validates the options (through {@link awsLambdaSchema}) and fills in defaults. */
export function resolveLambdaOptions(raw: Record<string, unknown>): ResolvedLambdaOptions {
  const o = checkBackendOptions({ name: 'aws_lambda', options: awsLambdaSchema }, raw) as AwsLambdaOptions;
  const env = process.env;
  return {
    region: o.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined),
    profile: o.profile,
    endpoint: o.endpoint,
    functionName: o.functionName,
    roleArn: o.roleArn,
    codeBucket: o.codeBucket,
    runtime: o.runtime ?? 'default',
    memory: o.memory ?? 1024,
    invokeConcurrency: o.invokeConcurrency ?? 64,
    // On by default for large maps: the fan-out model (bench/fanout) measured 8-12 s of client time
    // to invoke 1,000 calls one Invoke request each, against ~1 s through a remote invoker.
    remoteInvoker: o.remoteInvoker === false ? Infinity : typeof o.remoteInvoker === 'number' ? o.remoteInvoker : 1000,
    functionTimeout: o.functionTimeout ?? 900,
    maxEventAge: o.maxEventAge ?? 600,
    dataBuckets: o.dataBuckets ?? [],
    architecture: o.architecture ?? 'x86_64',
    nodeRuntime: o.nodeRuntime ?? 'nodejs20.x',
    storageCredentials: o.storageCredentials ?? 'config',
    layers: o.layers ?? [],
    tags: o.tags ?? {},
  };
}

/** Lambda's memory bounds applied to a requested size (a 64 MB heap limit still runs on a 128 MB function). */
export function lambdaMemory(requestedMB: number | undefined, o: ResolvedLambdaOptions): number {
  return Math.min(10_240, Math.max(128, Math.round(requestedMB ?? o.memory)));
}

/** The function of (runtime name, memory, Burst version): `burst-default-1024mb-0_1_0`. */
export function functionNameFor(o: ResolvedLambdaOptions, memoryMB: number, version = VERSION): string {
  return (
    o.functionName ?? `${NAME_PREFIX}${o.runtime}-${memoryMB}mb-${version.replace(/[^A-Za-z0-9]/g, '_')}`.slice(0, 64)
  );
}

/** The layer of a function's npm dependencies. */
export function layerNameFor(functionName: string): string {
  return `${functionName}-deps`;
}
