/**
 * Settings of the s3 driver (options over environment over defaults) and the lazily created SDK client.
 * The AWS SDK is imported here with dynamic `import()` only, on the first request.
 */
import { redactUrl } from '../../redact.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../../errors.js';
import { validateOptions } from '../options.js';

/** Options of the {@link s3} driver. */
export interface S3Options {
  /**
   * URL of an S3-compatible endpoint (Ceph RGW, MinIO, IBM COS, Cloudflare R2); unset for AWS S3.
   * @default process.env.BURST_S3_ENDPOINT ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL (else AWS)
   */
  endpoint?: string;
  /**
   * The region to sign requests for.
   * @default process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1'
   */
  region?: string;
  /**
   * Path-style addressing (`endpoint/bucket/key`) instead of virtual hosts (`bucket.endpoint/key`);
   * most S3-compatible stores need it.
   * @default true when `endpoint` is set, else false
   */
  forcePathStyle?: boolean;
  /**
   * Access key id. With `secretAccessKey`; without both, the SDK's default chain is used
   * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, `~/.aws/credentials` and `~/.aws/config`, SSO, IMDS).
   * @default undefined (the SDK's default chain)
   */
  accessKeyId?: string;
  /**
   * Secret access key (never printed; scrubbed from error messages).
   * @default undefined (the SDK's default chain)
   */
  secretAccessKey?: string;
  /**
   * Session token of temporary credentials.
   * @default undefined
   */
  sessionToken?: string;
  /**
   * Profile of the AWS shared config files to take credentials and settings from.
   * @default process.env.AWS_PROFILE ?? 'default'
   */
  profile?: string;
  /**
   * Keep-alive sockets per host, enough for parallel ranged reads and part uploads.
   * @default 64
   */
  maxSockets?: number;
  /**
   * Objects of at least this many bytes (or streams that reach it) are sent by multipart upload.
   * @default 16 MiB
   */
  multipartThreshold?: number;
  /**
   * Bytes per part of a multipart upload (at least 5 MiB), raised for large bodies of known size so
   * that an object never needs more than 10,000 parts. Streams of unknown length keep this size, so
   * they may hold up to 10,000 × partSize bytes (160 GB at the default).
   * @default 16 MiB
   */
  partSize?: number;
  /**
   * Parts of one multipart upload sent at once.
   * @default 4
   */
  uploadConcurrency?: number;
  /**
   * Whole-object and large-range reads are split into ranged GETs of this many bytes, fetched in parallel.
   * @default 16 MiB
   */
  downloadPartSize?: number;
  /**
   * Ranged GETs of one read in flight at once.
   * @default 8
   */
  downloadConcurrency?: number;
  /**
   * Attempts per request, with exponential backoff, on throttling, 5xx and network errors.
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Milliseconds to wait for a TCP connection before the attempt fails.
   * @default 5000
   */
  connectTimeoutMs?: number;
  /**
   * Milliseconds a request may go without sending or receiving a byte before the attempt fails (and
   * is retried): what turns a stalled server (e.g. a full Ceph cluster blocking writes) into an error
   * instead of a hang. There is no limit on the total time, so large parts on slow links still work.
   * @default 60000
   */
  requestTimeoutMs?: number;
  /**
   * Sign the SHA-256 of uploaded bytes. Over https TLS already protects them, and hashing costs about
   * as much CPU as sending; over plain http the signature is what protects them from tampering.
   * `false` sends `UNSIGNED-PAYLOAD`, as curl --aws-sigv4 and the AWS CLI over https do.
   * @default true for http:// endpoints, false for https:// (and AWS)
   */
  signPayload?: boolean;
  /**
   * Large reads from an http:// endpoint fetch their parts over plain sockets that read straight into
   * the result (presigned URLs; about half the CPU of Node's HTTP client). A part that fails this way
   * is fetched again through the SDK. `false` always uses the SDK.
   * @default true
   */
  directReads?: boolean;
  /**
   * Keys per ListObjectsV2 page (S3's maximum is 1,000).
   * @default 1000
   */
  listPageSize?: number;
  /**
   * Warn once (`process.emitWarning`, code `BURST_PLAIN_HTTP_CREDENTIALS`) when `endpoint` is plain
   * http:// to a host other than this machine: signed requests and data would travel unencrypted.
   * The copies of the driver that workers re-create have it off (the client has warned).
   * @default true
   */
  plainHttpWarning?: boolean;
}

const MiB = 1024 * 1024;

/** Every option resolved: what the driver runs with. */
export type S3Settings = Required<Omit<S3Options, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'profile'>> &
  Pick<S3Options, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'profile'>;

const KINDS = {
  endpoint: 'string',
  region: 'string',
  forcePathStyle: 'boolean',
  accessKeyId: 'string',
  secretAccessKey: 'string',
  sessionToken: 'string',
  profile: 'string',
  maxSockets: 'positive integer',
  multipartThreshold: 'positive integer',
  partSize: 'positive integer',
  uploadConcurrency: 'positive integer',
  downloadPartSize: 'positive integer',
  downloadConcurrency: 'positive integer',
  maxAttempts: 'positive integer',
  connectTimeoutMs: 'positive integer',
  requestTimeoutMs: 'positive integer',
  listPageSize: 'positive integer',
  plainHttpWarning: 'boolean',
  signPayload: 'boolean',
  directReads: 'boolean',
} as const;

/** Validates options and fills defaults from the environment. Reads env here, never at import. */
export function resolveS3Settings(options: S3Options): S3Settings {
  validateOptions('s3', options, KINDS);
  const env = process.env;
  const endpoint = options.endpoint ?? (env.BURST_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new ConfigError(`s3 endpoint must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`, { keyPath: 'endpoint' });
  }
  if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
    throw new ConfigError('s3 options accessKeyId and secretAccessKey must be given together', { keyPath: 'secretAccessKey' });
  }
  const partSize = options.partSize ?? 16 * MiB;
  if (partSize < 5 * MiB) throw new ConfigError(`s3 partSize must be at least 5 MiB (5242880), got ${partSize}`, { keyPath: 'partSize' });
  const listPageSize = options.listPageSize ?? 1000;
  if (listPageSize > 1000) throw new ConfigError(`s3 listPageSize must be at most 1000, got ${listPageSize}`, { keyPath: 'listPageSize' });
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
  const [sdk, { Agent: HttpAgent }, { Agent: HttpsAgent }] = await Promise.all([import('@aws-sdk/client-s3'), import('node:http'), import('node:https')]);
  const agentOptions = { keepAlive: true, maxSockets: s.maxSockets, maxFreeSockets: s.maxSockets };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent(agentOptions);
  const client = new sdk.S3Client({
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    forcePathStyle: s.forcePathStyle,
    ...(s.accessKeyId && s.secretAccessKey
      ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}) } }
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
        if (request?.headers && UPLOADS.has(context.commandName ?? '')) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
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
