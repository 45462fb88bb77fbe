/**
 * Map over data where it lives: the client-side planner (inputs → partition specs) and the
 * worker-side reader (spec → {@link DataPartition}). Workers import `./reader.js` alone.
 */
export type { ByteSpan, ObjectRef, PartitionOptions, PartitionSpec } from './types.js';
export { PartitionError, type PartitionErrorCode } from './errors.js';
export { isPartitionInput, planPartitions, type PlanContext } from './planner.js';
export { validatePartitionOptions, MAX_PARTITIONS } from './chunking.js';
export {
  DataPartition,
  PARTITION_MARK,
  closePartitionStorage,
  markPartition,
  toCallInput,
  type MarkedPartition,
} from './reader.js';
