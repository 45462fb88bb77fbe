/**
 * Runtimes: what a serverless backend needs deployed before it can start workers (a Lambda function
 * and its layer, a container image and a Knative service). `burst runtime build|deploy|list|delete`
 * and `burst clean --runtimes` drive them through a {@link RuntimeManager} per backend.
 */

/** One deployed runtime, as `burst runtime list` prints it. */
export interface RuntimeInfo {
  /** The runtime's name (e.g. `burst-default-1024mb-0_1`). */
  name: string;
  /** The backend it serves, e.g. `'aws_lambda'`, `'knative'`. */
  backend: string;
  /** Memory in MB, when the platform has a setting. */
  memoryMB?: number;
  /** The Burst version it runs. */
  burstVersion?: string;
  /** Where it lives: a function ARN, a service URL, an image reference. */
  location?: string;
  /** Anything else worth printing (layer ARN, image digest, last modified). */
  details?: Record<string, string>;
}

/** What every runtime command receives. */
export interface RuntimeCommandOptions {
  /** The backend's option section from the user's config (`aws_lambda`, `knative`, …). */
  backendOptions: Record<string, unknown>;
  /** Runtime name; a backend picks its default when unset. */
  name?: string;
  /** Memory in MB (`runtimeMemory`). */
  memoryMB?: number;
  /** The project folder whose `package.json` dependencies go into the runtime. @default process.cwd() */
  projectDir?: string;
  /** The bucket of Burst's data (`bucket` in the config), which a runtime's workers must reach. @default 'burst' */
  bucket?: string;
  /** The client's storage configuration (credentials included), which the workers of a container service use unless a secret holds theirs. */
  storage?: import('../storage/types.js').StorageConfig;
  /** Writes a progress line for the user (stderr). */
  log: (line: string) => void;
}

/** Build and deployment of one backend's runtimes. */
export interface RuntimeManager {
  /** Builds the artefact (a container image, a layer zip) without deploying it; returns where it is. */
  build?(o: RuntimeCommandOptions): Promise<string>;
  /** Creates or updates the runtime; returns what was deployed. */
  deploy(o: RuntimeCommandOptions): Promise<RuntimeInfo>;
  /** Runtimes Burst created on this backend, found by name prefix and tag. */
  list(o: RuntimeCommandOptions): Promise<RuntimeInfo[]>;
  /** Deletes one runtime by name, or every runtime Burst created when `name` is unset; returns the names removed. */
  delete(o: RuntimeCommandOptions): Promise<string[]>;
}
