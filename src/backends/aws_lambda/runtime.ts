/**
 * Runtimes of the AWS Lambda backend. `deploy` builds the worker bundle and a layer of the project's
 * production dependencies, publishes the layer, creates or updates the function
 * `burst-<runtime>-<memory>mb-<version>` (with the role `burst-lambda-worker`, made with a
 * least-privilege policy when no role is configured), and turns Lambda's own async retries off.
 * `list` finds functions by name prefix and the `burst:managed` tag; `delete` removes functions, their
 * layer versions and, once no Burst function is left, the role Burst made.
 *
 * Every AWS call goes through a client that tests can replace ({@link createLambdaRuntimes}).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleepMs } from 'node:timers/promises';
import type { FunctionConfiguration, LambdaClient } from '@aws-sdk/client-lambda';
import { BurstError } from '../../errors.js';
import { VERSION } from '../../version.js';
import {
  functionNameFor,
  lambdaMemory,
  layerNameFor,
  NAME_PREFIX,
  resolveLambdaOptions,
  TAG_MANAGED,
  TAG_MEMORY,
  TAG_RUNTIME,
  TAG_VERSION,
  type ResolvedLambdaOptions,
} from './options.js';
import { functionZip, layerZip, type BuiltZip } from './build.js';
import { deleteRole, ensureRole, type CommandClient } from './role.js';
import type { RuntimeCommandOptions, RuntimeInfo, RuntimeManager } from '../../runtime/types.js';

/** What the runtime manager uses to reach AWS and build artefacts; every field has a real default. */
export interface LambdaRuntimeDeps {
  /** Lambda client. @default a LambdaClient from the `aws_lambda` options */
  lambda?: Pick<LambdaClient, 'send'>;
  /** IAM client. @default an IAMClient with the same credentials */
  iam?: CommandClient;
  /** Uploads a zip over Lambda's direct-upload limit to `codeBucket`. @default an S3 PutObject */
  upload?: (bucket: string, key: string, bytes: Buffer) => Promise<void>;
  /** Waits between polls of a function's state. @default a timer */
  sleep?: (ms: number) => Promise<void>;
  /** Builds the function and layer zips. @default esbuild and the project's node_modules */
  build?: {
    functionZip(outDir: string): Promise<BuiltZip>;
    layerZip(projectDir: string): Promise<BuiltZip | undefined>;
  };
}

/** Zips up to this size go inline in the request; larger ones through S3. */
const DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024;

/** The runtime manager with real AWS clients. */
export const awsLambdaRuntimes: RuntimeManager = createLambdaRuntimes();

/** A runtime manager whose AWS clients and builders may be replaced (tests). */
export function createLambdaRuntimes(deps: LambdaRuntimeDeps = {}): RuntimeManager {
  return {
    build: async (o) => {
      const dir = await mkdtemp(join(tmpdir(), 'burst-lambda-'));
      const built = deps.build ?? { functionZip, layerZip };
      const code = await built.functionZip(join(dir, 'function'));
      const layer = await built.layerZip(o.projectDir ?? process.cwd());
      o.log(
        `worker bundle: ${(code.bytes.length / 1024).toFixed(0)} KiB zipped; layer: ${layer ? `${layer.files} files, ${(layer.bytes.length / 2 ** 20).toFixed(1)} MiB zipped` : 'none (no production dependencies)'}`,
      );
      return join(dir, 'function');
    },
    deploy: async (o) => new Session(o, deps).deploy(),
    list: async (o) => new Session(o, deps).list(),
    delete: async (o) => new Session(o, deps).remove(),
  };
}

const errName = (err: unknown): string | undefined => (err as { name?: string })?.name;

/** One command's options, clients and SDK modules. */
class Session {
  private readonly opts: ResolvedLambdaOptions;
  private sdkPromise: Promise<typeof import('@aws-sdk/client-lambda')> | undefined;
  private lambdaClient: Pick<LambdaClient, 'send'> | undefined;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly o: RuntimeCommandOptions,
    private readonly deps: LambdaRuntimeDeps,
  ) {
    this.opts = resolveLambdaOptions({
      ...o.backendOptions,
      ...(o.name && !o.name.startsWith(NAME_PREFIX) ? { runtime: o.name } : {}),
    });
    this.sleep = deps.sleep ?? ((ms) => sleepMs(ms));
  }

  private sdk(): Promise<typeof import('@aws-sdk/client-lambda')> {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.sdkPromise ??= import('@aws-sdk/client-lambda');
    return this.sdkPromise;
  }

  private clientConfig(): Record<string, string> {
    return {
      ...(this.opts.region ? { region: this.opts.region } : {}),
      ...(this.opts.profile ? { profile: this.opts.profile } : {}),
    };
  }

  private async lambda(): Promise<Pick<LambdaClient, 'send'>> {
    if (this.deps.lambda) return this.deps.lambda;
    const sdk = await this.sdk();
    this.lambdaClient ??= new sdk.LambdaClient({
      ...this.clientConfig(),
      ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}),
    });
    return this.lambdaClient;
  }

  private async iam(): Promise<CommandClient> {
    if (this.deps.iam) return this.deps.iam;
    const { IAMClient } = await import('@aws-sdk/client-iam');
    return new IAMClient(this.clientConfig());
  }

  async deploy(): Promise<RuntimeInfo> {
    const memoryMB = lambdaMemory(this.o.memoryMB, this.opts);
    const functionName = this.o.name?.startsWith(NAME_PREFIX) ? this.o.name : functionNameFor(this.opts, memoryMB);
    const projectDir = this.o.projectDir ?? process.cwd();
    const build = this.deps.build ?? { functionZip, layerZip };
    const dir = await mkdtemp(join(tmpdir(), 'burst-lambda-'));
    try {
      this.o.log(`building the Burst ${VERSION} worker bundle`);
      const code = await build.functionZip(join(dir, 'function'));
      this.o.log(`packing the production dependencies of ${projectDir}`);
      const layer = await build.layerZip(projectDir);
      const tags = {
        ...this.opts.tags,
        [TAG_MANAGED]: 'true',
        [TAG_VERSION]: VERSION,
        [TAG_RUNTIME]: this.opts.runtime,
        [TAG_MEMORY]: String(memoryMB),
      };
      const role = this.opts.roleArn
        ? { arn: this.opts.roleArn, created: false }
        : await ensureRole(
            await this.iam(),
            [this.o.bucket ?? 'burst', ...this.opts.dataBuckets],
            this.opts.tags,
            this.o.log,
          );
      const layerArn = layer ? await this.publishLayer(functionName, layer, basename(projectDir)) : undefined;
      const existing = await this.configuration(functionName);
      const fn = existing
        ? await this.update(functionName, existing, code, layerArn, memoryMB, role.arn, tags)
        : await this.create(functionName, code, layerArn, memoryMB, role, tags);
      const sdk = await this.sdk();
      // Burst owns retries: an async event that Lambda retried on its own would run its calls again.
      await (await this.lambda()).send(
        new sdk.PutFunctionEventInvokeConfigCommand({
          FunctionName: functionName,
          MaximumRetryAttempts: 0,
          MaximumEventAgeInSeconds: this.opts.maxEventAge,
        }),
      );
      this.o.log(`deployed ${functionName}`);
      return {
        name: functionName,
        backend: 'aws_lambda',
        memoryMB,
        burstVersion: VERSION,
        ...(fn.FunctionArn ? { location: fn.FunctionArn } : {}),
        details: { runtime: this.opts.runtime, ...(layerArn ? { layer: layerArn } : {}), role: role.arn },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The code of a zip: inline when small, else uploaded to `codeBucket`. */
  private async content(
    zip: BuiltZip,
    key: string,
  ): Promise<{ ZipFile: Uint8Array } | { S3Bucket: string; S3Key: string }> {
    if (zip.bytes.length <= DIRECT_UPLOAD_BYTES) return { ZipFile: zip.bytes };
    const bucket = this.opts.codeBucket;
    if (!bucket)
      throw new BurstError(
        'DEPLOY_FAILED',
        `${key} is ${(zip.bytes.length / 2 ** 20).toFixed(0)} MB zipped, over Lambda's 50 MB direct upload: set aws_lambda.codeBucket to a bucket in the function's region`,
        { backend: 'aws_lambda' },
      );
    const S3Key = `burst/runtimes/${key}-${zip.sha256}.zip`;
    await (this.deps.upload ?? ((b, k, bytes) => uploadToS3(b, k, bytes, this.clientConfig())))(
      bucket,
      S3Key,
      zip.bytes,
    );
    return { S3Bucket: bucket, S3Key };
  }

  private async publishLayer(functionName: string, zip: BuiltZip, project: string): Promise<string> {
    const sdk = await this.sdk();
    const lambda = await this.lambda();
    const LayerName = layerNameFor(functionName);
    const marker = `sha256:${zip.sha256}`;
    const versions = await lambda.send(new sdk.ListLayerVersionsCommand({ LayerName })).catch(() => undefined);
    const same = versions?.LayerVersions?.find((v) => v.Description?.includes(marker));
    if (same?.LayerVersionArn) {
      this.o.log(`layer ${LayerName} is up to date`);
      return same.LayerVersionArn;
    }
    this.o.log(`publishing layer ${LayerName} (${zip.files} files, ${(zip.bytes.length / 2 ** 20).toFixed(1)} MiB)`);
    const out = await lambda.send(
      new sdk.PublishLayerVersionCommand({
        LayerName,
        // Layers carry no tags: the description is how Burst recognizes its own.
        Description: `Burst ${VERSION} npm dependencies of ${project} ${marker}`.slice(0, 256),
        Content: await this.content(zip, LayerName),
        CompatibleRuntimes: [this.opts.nodeRuntime as never],
        CompatibleArchitectures: [this.opts.architecture],
      }),
    );
    if (!out.LayerVersionArn)
      throw new BurstError('DEPLOY_FAILED', `Lambda returned no ARN for the new version of layer ${LayerName}`, {
        backend: 'aws_lambda',
      });
    return out.LayerVersionArn;
  }

  private settings(functionName: string, layerArn: string | undefined, memoryMB: number, role: string) {
    return {
      FunctionName: functionName,
      Role: role,
      Handler: 'index.handler',
      Runtime: this.opts.nodeRuntime as never,
      MemorySize: memoryMB,
      Timeout: this.opts.functionTimeout,
      Layers: [...(layerArn ? [layerArn] : []), ...this.opts.layers],
      Environment: { Variables: { BURST_VERSION: VERSION, NODE_OPTIONS: '--enable-source-maps' } },
      Description: `Burst ${VERSION} worker (runtime ${this.opts.runtime}, ${memoryMB} MB)`,
    };
  }

  private async create(
    functionName: string,
    code: BuiltZip,
    layerArn: string | undefined,
    memoryMB: number,
    role: { arn: string; created: boolean },
    tags: Record<string, string>,
  ): Promise<FunctionConfiguration> {
    const sdk = await this.sdk();
    const lambda = await this.lambda();
    const input = {
      ...this.settings(functionName, layerArn, memoryMB, role.arn),
      Code: await this.content(code, functionName),
      PackageType: 'Zip' as const,
      Architectures: [this.opts.architecture],
      Tags: tags,
    };
    this.o.log(`creating function ${functionName}`);
    for (let attempt = 1; ; attempt++) {
      try {
        await lambda.send(new sdk.CreateFunctionCommand(input));
        break;
      } catch (err) {
        // A new role takes a few seconds to be visible to Lambda (IAM is eventually consistent).
        const propagating =
          errName(err) === 'InvalidParameterValueException' && /cannot be assumed|role/i.test((err as Error).message);
        if (!propagating || attempt >= 15) throw err;
        await this.sleep(2000);
      }
    }
    return this.ready(functionName);
  }

  private async update(
    functionName: string,
    existing: FunctionConfiguration,
    code: BuiltZip,
    layerArn: string | undefined,
    memoryMB: number,
    role: string,
    tags: Record<string, string>,
  ): Promise<FunctionConfiguration> {
    const sdk = await this.sdk();
    const lambda = await this.lambda();
    if (existing.CodeSha256 !== Buffer.from(code.sha256, 'hex').toString('base64')) {
      this.o.log(`updating the code of ${functionName}`);
      const c = await this.content(code, functionName);
      await lambda.send(
        new sdk.UpdateFunctionCodeCommand({
          FunctionName: functionName,
          ...('ZipFile' in c ? { ZipFile: c.ZipFile } : c),
          Architectures: [this.opts.architecture],
        }),
      );
      await this.ready(functionName);
    }
    this.o.log(`updating the configuration of ${functionName}`);
    await lambda.send(
      new sdk.UpdateFunctionConfigurationCommand(this.settings(functionName, layerArn, memoryMB, role)),
    );
    const fn = await this.ready(functionName);
    if (fn.FunctionArn) await lambda.send(new sdk.TagResourceCommand({ Resource: fn.FunctionArn, Tags: tags }));
    return fn;
  }

  private async configuration(functionName: string): Promise<FunctionConfiguration | undefined> {
    const sdk = await this.sdk();
    try {
      return await (await this.lambda()).send(new sdk.GetFunctionConfigurationCommand({ FunctionName: functionName }));
    } catch (err) {
      if (errName(err) === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  }

  /** Waits until the function is Active and no update is in progress. */
  private async ready(functionName: string): Promise<FunctionConfiguration> {
    for (let i = 0; i < 300; i++) {
      const c = await this.configuration(functionName);
      if (c?.State === 'Failed' || c?.LastUpdateStatus === 'Failed') {
        throw new BurstError(
          'DEPLOY_FAILED',
          `Lambda could not set up ${functionName}: ${c.StateReason ?? c.LastUpdateStatusReason ?? 'no reason given'}`,
          { backend: 'aws_lambda' },
        );
      }
      if (c && (c.State ?? 'Active') === 'Active' && c.LastUpdateStatus !== 'InProgress') return c;
      await this.sleep(1000);
    }
    throw new BurstError('DEPLOY_FAILED', `${functionName} did not become active within 5 minutes`, {
      backend: 'aws_lambda',
    });
  }

  async list(): Promise<RuntimeInfo[]> {
    const sdk = await this.sdk();
    const lambda = await this.lambda();
    const out: RuntimeInfo[] = [];
    let Marker: string | undefined;
    do {
      const page = await lambda.send(new sdk.ListFunctionsCommand({ MaxItems: 50, ...(Marker ? { Marker } : {}) }));
      for (const f of page.Functions ?? []) {
        if (!f.FunctionName?.startsWith(NAME_PREFIX) || !f.FunctionArn) continue;
        const tags = (await lambda.send(new sdk.ListTagsCommand({ Resource: f.FunctionArn }))).Tags ?? {};
        if (tags[TAG_MANAGED] !== 'true') continue;
        const details: Record<string, string> = {};
        if (tags[TAG_RUNTIME]) details.runtime = tags[TAG_RUNTIME];
        if (f.Layers?.[0]?.Arn) details.layer = f.Layers[0].Arn;
        if (f.LastModified) details.lastModified = f.LastModified;
        out.push({
          name: f.FunctionName,
          backend: 'aws_lambda',
          ...(f.MemorySize ? { memoryMB: f.MemorySize } : {}),
          ...(tags[TAG_VERSION] ? { burstVersion: tags[TAG_VERSION] } : {}),
          location: f.FunctionArn,
          details,
        });
      }
      Marker = page.NextMarker;
    } while (Marker);
    return out;
  }

  /** Deletes the named runtime (a function name, or a runtime name for all its sizes), or everything. */
  async remove(): Promise<string[]> {
    const sdk = await this.sdk();
    const lambda = await this.lambda();
    const all = await this.list();
    const name = this.o.name;
    const targets = name === undefined ? all : all.filter((r) => r.name === name || r.details?.runtime === name);
    const removed: string[] = [];
    for (const t of targets) {
      this.o.log(`deleting function ${t.name}`);
      await lambda.send(new sdk.DeleteFunctionCommand({ FunctionName: t.name }));
      removed.push(t.name);
      removed.push(...(await this.deleteLayer(layerNameFor(t.name))));
    }
    if (name === undefined) {
      // Layers of deploys that failed before their function existed.
      let Marker: string | undefined;
      do {
        const page = await lambda.send(new sdk.ListLayersCommand({ MaxItems: 50, ...(Marker ? { Marker } : {}) }));
        for (const l of page.Layers ?? []) {
          if (
            l.LayerName?.startsWith(NAME_PREFIX) &&
            l.LatestMatchingVersion?.Description?.startsWith('Burst ') &&
            !removed.some((r) => r.startsWith(`${l.LayerName} `))
          )
            removed.push(...(await this.deleteLayer(l.LayerName)));
        }
        Marker = page.NextMarker;
      } while (Marker);
    }
    const left = name === undefined ? [] : all.filter((r) => !targets.includes(r));
    if (left.length === 0 && !this.opts.roleArn && (await deleteRole(await this.iam())))
      removed.push('burst-lambda-worker (IAM role)');
    return removed;
  }

  private async deleteLayer(LayerName: string): Promise<string[]> {
    const sdk = await this.sdk();
    const lambda = await this.lambda();
    let n = 0;
    let Marker: string | undefined;
    do {
      const page = await lambda.send(new sdk.ListLayerVersionsCommand({ LayerName, ...(Marker ? { Marker } : {}) }));
      for (const v of page.LayerVersions ?? []) {
        if (v.Version === undefined) continue;
        await lambda.send(new sdk.DeleteLayerVersionCommand({ LayerName, VersionNumber: v.Version }));
        n++;
      }
      Marker = page.NextMarker;
    } while (Marker);
    return n ? [`${LayerName} (layer, ${n} version${n === 1 ? '' : 's'})`] : [];
  }
}

async function uploadToS3(bucket: string, key: string, bytes: Buffer, config: Record<string, string>): Promise<void> {
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client(config);
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  } finally {
    s3.destroy();
  }
}
