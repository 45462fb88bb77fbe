/**
 * Settings of the s3 driver (options over environment over defaults) and the lazily created SDK client.
 * The AWS SDK is imported here with dynamic `import()` only, on the first request.
 */
import { redactUrl } from '../../redact.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../../errors.js';
import { warnPlainHttpCredentials } from '../../plain-http-warning.js';
import type { StorageConfig } from '../types.js';
import type { S3Options } from './options.js';

export type { S3Options } from './options.js';

const MiB = 1024 * 1024;

/** Every option resolved: what the driver runs with. */
export type S3Settings = Required<
  Omit<S3Options, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'profile'>
> &
  Pick<S3Options, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'profile'>;

/**
 * Fills defaults from the environment (reads env here, never at import) into options already checked
 * by the schema (s3/options.ts), and checks what the schema cannot: the endpoint from variables, and
 * credentials that only make sense together.
 */
export function resolveS3Settings(options: S3Options): S3Settings {
  const env = process.env;
  const endpoint =
    options.endpoint ?? (env.BURST_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new ConfigError(`s3 endpoint must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`, {
      keyPath: 'endpoint',
    });
  }
  if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
    throw new ConfigError('s3 options accessKeyId and secretAccessKey must be given together', {
      keyPath: 'secretAccessKey',
    });
  }
  const partSize = options.partSize ?? 16 * MiB;
  const listPageSize = options.listPageSize ?? 1000;
  return {
    endpoint: endpoint?.replace(/\/+$/, ''),
    region: options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1'),
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    sessionToken: options.sessionToken,
    profile: options.profile,
    maxSockets: options.maxSockets ?? 64,
    multipartThreshold: options.multipartThreshold ?? 16 * MiB,
    partSize,
    uploadConcurrency: options.uploadConcurrency ?? 4,
    downloadPartSize: options.downloadPartSize ?? 16 * MiB,
    downloadConcurrency: options.downloadConcurrency ?? 8,
    maxAttempts: options.maxAttempts ?? 5,
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    listPageSize,
    signPayload: options.signPayload ?? endpoint?.startsWith('http://') ?? false,
    directReads: options.directReads ?? true,
    plainHttpWarning: options.plainHttpWarning ?? true,
  };
}

/**
 * The driver's config, from which workers re-create it. Warns (once per process) when credentials
 * would travel over plain http; the config turns the warning off, since the client has warned.
 */
export function s3DriverConfig(settings: S3Settings): StorageConfig {
  const { endpoint, region, forcePathStyle, accessKeyId, secretAccessKey, sessionToken, profile, ...tuning } = settings;
  const opts: Record<string, unknown> = { region, forcePathStyle, ...tuning };
  for (const [k, v] of Object.entries({ endpoint, accessKeyId, secretAccessKey, sessionToken, profile }))
    if (v !== undefined) opts[k] = v;
  if (endpoint !== undefined && settings.plainHttpWarning)
    warnPlainHttpCredentials(endpoint, 'S3 requests signed with your access key (and the data they carry)');
  opts.plainHttpWarning = false;
  return { driver: 's3', options: opts };
}

/** The endpoint as shown in messages. */
export function endpointLabel(s: S3Settings): string {
  return s.endpoint !== undefined ? redactUrl(s.endpoint) : `AWS S3 (${s.region})`;
}

/** Commands whose bodies are object data. */
const UPLOADS = new Set(['PutObjectCommand', 'UploadPartCommand']);

/** The SDK client and the agents it owns. */
export interface S3Handle {
  client: S3Client;
  sdk: typeof import('@aws-sdk/client-s3');
  destroy(): void;
}

/** Imports the SDK and builds a client with keep-alive agents, timeouts and the standard retry strategy. */
export async function createS3Handle(s: S3Settings): Promise<S3Handle> {
  // Burst pins an SDK release that supports Node 20; its notice about future releases needing Node 22
  // would print on every CLI run. This is the SDK's documented switch; a user's own setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // node:http/https too load here, not at `import 'burst-compute'`.
  const [sdk, { Agent: HttpAgent }, { Agent: HttpsAgent }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('node:http'),
    import('node:https'),
  ]);
  const agentOptions = { keepAlive: true, maxSockets: s.maxSockets, maxFreeSockets: s.maxSockets };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent(agentOptions);
  const client = new sdk.S3Client({
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    forcePathStyle: s.forcePathStyle,
    ...(s.accessKeyId && s.secretAccessKey
      ? {
          credentials: {
            accessKeyId: s.accessKeyId,
            secretAccessKey: s.secretAccessKey,
            ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}),
          },
        }
      : {}),
    ...(s.profile ? { profile: s.profile } : {}),
    maxAttempts: s.maxAttempts,
    retryMode: 'standard',
    // socketTimeout is the idle timeout; this SDK's requestTimeout would only log a warning.
    requestHandler: { httpAgent, httpsAgent, connectionTimeout: s.connectTimeoutMs, socketTimeout: s.requestTimeoutMs },
    // Flexible checksums (CRC32 trailers) are not understood by many S3-compatible stores (Ceph
    // before Squid, older MinIO); send them only where the API requires one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    followRegionRedirects: s.endpoint === undefined,
  });
  if (!s.signPayload) {
    // A payload hash header set before signing is used as is: the signer then hashes nothing.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers?: Record<string, string> } | undefined;
        if (request?.headers && UPLOADS.has(context.commandName ?? ''))
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'burstUnsignedPayload' },
    );
  }
  return {
    client,
    sdk,
    destroy() {
      client.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
