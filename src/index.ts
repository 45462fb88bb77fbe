/**
 * Burst's public API. Everything a user imports comes from here, by name.
 */
export { FunctionExecutor } from './executor/executor.js';
export type { TaskFunction, MapOptions, GetResultOptions, Inputs, AttachOptions } from './executor/executor.js';
export { Future } from './executor/future.js';
export { FutureList } from './executor/future-list.js';
export type { FutureStatus, CallStats } from './executor/future.js';
export { StoredResult } from './executor/stored-result.js';
export type { CallResult } from './executor/stored-result.js';
export type { StreamedValue } from './worker/stream-result.js';
export type { ReduceItem } from './worker/result-feed.js';
export type { UpstreamStoredResult } from './worker/upstream-stored.js';
export type { WaitOptions, WaitResult, ReturnWhen } from './executor/wait.js';
export type { CallContext } from './worker/context.js';
export type { ExecutorOptions, SpeculativeOptions } from './config/defaults.js';
export { defaults } from './config/defaults.js';
export {
  BurstError,
  RemoteError,
  TimeoutError,
  WorkerCrashError,
  OutOfMemoryError,
  SerializationError,
  PackagingError,
  IntegrityError,
  ConfigError,
  WaitTimeoutError,
  CancelledError,
  MaxFailuresError,
  UpstreamError,
  StorageError,
  NoSuchBucketError,
  NoSuchKeyError,
  JobNotFoundError,
  StorageAuthError,
  InvalidKeyError,
  StorageUnavailableError,
  MalformedRecordError,
  PrimitiveError,
  isBurstError,
  isBurstErrorCode,
  ERROR_CODE_CLASS,
} from './errors.js';
export type {
  ErrorContext,
  BurstErrorCode,
  GeneralErrorCode,
  RemoteErrorCode,
  TimeoutErrorCode,
  WorkerCrashErrorCode,
  OutOfMemoryErrorCode,
  SerializationErrorCode,
  PackagingErrorCode,
  IntegrityErrorCode,
  ConfigErrorCode,
  WaitTimeoutErrorCode,
  CancelledErrorCode,
  MaxFailuresErrorCode,
  StorageErrorCode,
  StorageOwnErrorCode,
  NoSuchBucketErrorCode,
  NoSuchKeyErrorCode,
  JobNotFoundErrorCode,
  StorageAuthErrorCode,
  InvalidKeyErrorCode,
  StorageUnavailableErrorCode,
  MalformedRecordErrorCode,
  InvocationErrorCode,
  RuntimeMissingErrorCode,
  PartitionErrorCode,
  PrimitiveErrorCode,
} from './errors.js';
export { InvocationError, RuntimeMissingError } from './backends/invocation-error.js';
export { registerBackend, backendNames } from './backends/index.js';
export type { BackendOptionsMap } from './backends/index.js';
export type {
  ComputeBackend,
  BackendContext,
  BackendFactory,
  JobDescriptor,
  LostCallInfo,
  DirectRunner,
} from './backends/types.js';
export { defineBackend, selectBackend } from './backends/definition.js';
export type {
  BackendDefinition,
  BackendOptionsOf,
  BackendSelection,
  OptionsSchema,
  ZodNamespace,
  SameOptions,
  OptionsMatch,
} from './backends/definition.js';
export { localhost, slurm, awsLambda, knative, cloudrun, codeEngine } from './backends/factories.js';
export { k8s, openwhisk } from './backends/factories.js';
export type { BackendChoice } from './backends/factories.js';
export type { BackendSections } from './config/defaults.js';
export type { RuntimeManager, RuntimeInfo, RuntimeCommandOptions } from './runtime/types.js';
export type { PoolTask, PoolCancel } from './worker/pool-types.js';
export type { PoolJob, PoolCall, CallRecord } from './worker/protocol.js';
export type { AwsLambdaOptions } from './backends/aws_lambda/options.js';
export type { KnativeSection } from './backends/knative/index.js';
export type { CloudRunSection } from './backends/cloudrun/index.js';
export type { CodeEngineSection } from './backends/code_engine/index.js';
export type { K8sOptions, K8sToleration } from './backends/k8s/options.js';
export type { OpenWhiskOptions } from './backends/openwhisk/options.js';
export type { LocalhostOptions } from './backends/localhost/options.js';
export type { StorageDriver, StorageConfig, StorageBody, ObjectInfo, ListEntry, ByteRange } from './storage/types.js';
export { VERSION } from './version.js';
export { Pool } from './pool/pool.js';
export type { PoolOptions, PoolMapOptions, PoolRunOptions } from './pool/pool.js';
export { pMap } from './pool/p-map.js';
export { Primitives, Queue, Lock, Counter, Value, Barrier, Event } from './primitives/primitives.js';
export type { WaitTimeout, LockOptions, LockLease } from './primitives/primitives.js';
export type { RedisOptions, PrimitivesMode } from './primitives/options.js';
export type { PMapOptions } from './pool/p-map.js';
export {
  Storage,
  StorageBucket,
  createStorage,
  registerStorage,
  memory,
  fs,
  s3,
  parseStorageUri,
  formatStorageUri,
} from './storage/index.js';
export type { StorageOptions, MemoryOptions, FsOptions, S3Options } from './storage/index.js';
export { optionChecks, storageDrivers, validateStorageOptions } from './storage/index.js';
export type {
  StorageDriverDefinition,
  StorageDriverCapabilities,
  StorageDriverOptions,
  StorageOptionsSchema,
  OptionsMatchSchema,
  StorageCapabilities,
  PutOptions,
  GetOptions,
  ListOptions,
} from './storage/index.js';
export type { SlurmOptions } from './backends/slurm/options.js';
export { DataPartition } from './partition/reader.js';
export { PartitionError } from './partition/errors.js';
export type { PartitionOptions, PartitionSpec } from './partition/index.js';
// From their own files, not stats/index.js: the job catalogue and the plotting code load on use.
export { summarize } from './stats/summary.js';
export { formatSummary } from './stats/format.js';
export { estimateCost, registerPrices } from './stats/cost.js';
export { plotTimeline } from './stats/plot-lazy.js';
export { readJobStatuses } from './job/reader.js';
export type {
  JobSummary,
  Distribution,
  CostEstimate,
  CallLike,
  CallTimes,
  PriceTable,
  PlotOptions,
  SummaryOptions,
  StoredCallStatus,
} from './stats/index.js';
export { loadConfig } from './config/load.js';
export type { LoadedConfig, LoadConfigOptions } from './config/load.js';
export type { BurstConfig } from './config/schema.js';
export { notebook } from './notebook/display.js';
export type { NotebookExecutor } from './notebook/display.js';
