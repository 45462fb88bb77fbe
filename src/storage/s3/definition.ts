/**
 * The definition of the `s3` storage driver (AWS S3 and S3-compatible stores). Importing it loads
 * neither zod nor the AWS SDK: `create` imports the driver, which imports the SDK on first request.
 */
import { redactUrl } from '../../redact.js';
import type { StorageDriverDefinition } from '../definition.js';
import { s3Capabilities, s3Spec, type S3Options } from './options.js';

/** The `s3` driver: name, options schema, capabilities and a lazy factory. */
export const s3Definition: StorageDriverDefinition<S3Options> = {
  ...s3Spec,
  summary: 'AWS S3 or an S3-compatible store (Ceph RGW, MinIO, IBM COS, Cloudflare R2)',
  capabilities: s3Capabilities,
  describe: (options) =>
    `s3 ${options.endpoint !== undefined ? redactUrl(options.endpoint) : `AWS (${options.region ?? 'us-east-1'})`}`,
  // A profile names a file on the client's disk; with the function's role, its credentials apply instead.
  forCloudFunction: ({ profile: _profile, ...options }, ownIdentity) => {
    if (!ownIdentity) return options;
    const { accessKeyId: _id, secretAccessKey: _secret, sessionToken: _token, ...rest } = options;
    return rest;
  },
  create: async (options) => (await import('./driver.js')).createS3Driver(options),
};
