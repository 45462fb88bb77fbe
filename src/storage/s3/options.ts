/**
 * The options of the s3 driver: the interface users write (with its TSDoc) and the schema that checks
 * them, tied together by a compile-time check. Nothing here loads zod or the AWS SDK.
 */
import type { OptionsMatchSchema, ZodNamespace } from '../definition.js';
import type { StorageDriverCapabilities, StorageOptionsSpec } from '../definition.js';
import { optionChecks } from '../definition.js';

/** Options of the `s3` storage driver. */
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

/** The schema of {@link S3Options}: the one validator for constructor, config-file and environment options. */
export function s3OptionsSchema(z: ZodNamespace) {
  const { string, boolean, positiveInteger } = optionChecks(z);
  const url = 'an http:// or https:// URL';
  return z.object(
    {
      endpoint: z
        .string({ error: url })
        .regex(/^https?:\/\/[^/]/, { error: url })
        .optional(),
      region: string(),
      forcePathStyle: boolean(),
      accessKeyId: string(),
      secretAccessKey: string(),
      sessionToken: string(),
      profile: string(),
      maxSockets: positiveInteger(),
      multipartThreshold: positiveInteger(),
      partSize: positiveInteger({ min: 5 * MiB, minWhat: 'at least 5 MiB (5242880)' }),
      uploadConcurrency: positiveInteger(),
      downloadPartSize: positiveInteger(),
      downloadConcurrency: positiveInteger(),
      maxAttempts: positiveInteger(),
      connectTimeoutMs: positiveInteger(),
      requestTimeoutMs: positiveInteger(),
      signPayload: boolean(),
      directReads: boolean(),
      listPageSize: positiveInteger({ max: 1000 }),
      plainHttpWarning: boolean(),
    },
    { error: 'an object' },
  );
}

/** Fails to compile when {@link S3Options} and its schema disagree on a name or a type. */
const exact: OptionsMatchSchema<S3Options, typeof s3OptionsSchema> = true;
void exact;

/** The name and schema of the `s3` driver: what its module validates options with. */
export const s3Spec: StorageOptionsSpec<S3Options> = { name: 's3', options: s3OptionsSchema };

/** Where this driver's data lives. */
export const s3Capabilities = (_options: S3Options = {}): StorageDriverCapabilities => ({
  presign: true,
  multipart: true,
  remote: true,
  processes: true,
  local: false,
});
