/**
 * The IAM role of Burst's Lambda functions: its trust policy, its least-privilege policy (logs of
 * Burst's functions, Burst's bucket and the data buckets named in the config, and invoking Burst's
 * functions for the remote invoker), and its creation and removal. The README prints these documents.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { NAME_PREFIX, ROLE_NAME, TAG_MANAGED, TAG_VERSION } from './options.js';
import { VERSION } from '../../version.js';
import { BurstError } from '../../errors.js';

/** Anything that sends SDK commands (a real client, or a test double). */
export type CommandClient = Pick<IAMClient, 'send'>;

/** The name of the role's inline policy. */
export const POLICY_NAME = 'burst-worker';

/** Lets Lambda assume the role. */
export const TRUST_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
} as const;

/** What a Burst worker function may do, for Burst's bucket and the given data buckets. */
export function workerPolicy(buckets: readonly string[]): Record<string, unknown> {
  const unique = [...new Set(buckets)].sort();
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Logs',
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [
          `arn:aws:logs:*:*:log-group:/aws/lambda/${NAME_PREFIX}*`,
          `arn:aws:logs:*:*:log-group:/aws/lambda/${NAME_PREFIX}*:*`,
        ],
      },
      {
        Sid: 'BurstObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: unique.map((b) => `arn:aws:s3:::${b}/*`),
      },
      {
        Sid: 'BurstBuckets',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: unique.map((b) => `arn:aws:s3:::${b}`),
      },
      {
        Sid: 'RemoteInvoker',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: [`arn:aws:lambda:*:*:function:${NAME_PREFIX}*`],
      },
    ],
  };
}

/** Buckets an existing policy document grants (so a second deploy for another bucket keeps the first). */
export function bucketsOf(document: string | undefined): string[] {
  if (!document) return [];
  try {
    const doc = JSON.parse(decodeURIComponent(document)) as {
      Statement?: Array<{ Sid?: string; Resource?: string | string[] }>;
    };
    const statement = doc.Statement?.find((s) => s.Sid === 'BurstBuckets');
    const resources = typeof statement?.Resource === 'string' ? [statement.Resource] : (statement?.Resource ?? []);
    return resources.map((r) => r.replace(/^arn:aws:s3:::/, ''));
  } catch {
    return [];
  }
}

const isNotFound = (err: unknown): boolean =>
  (err as { name?: string })?.name === 'NoSuchEntityException' || (err as { name?: string })?.name === 'NoSuchEntity';

/** Creates the role (or updates its policy) and returns its ARN and whether it was just created. */
export async function ensureRole(
  iam: CommandClient,
  buckets: readonly string[],
  tags: Record<string, string>,
  log: (line: string) => void,
): Promise<{ arn: string; created: boolean }> {
  const sdk = await import('@aws-sdk/client-iam');
  let arn: string | undefined;
  let created = false;
  try {
    arn = (await iam.send(new sdk.GetRoleCommand({ RoleName: ROLE_NAME }))).Role?.Arn;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  let existing: string | undefined;
  if (arn === undefined) {
    log(`creating the IAM role ${ROLE_NAME}`);
    const allTags = { ...tags, [TAG_MANAGED]: 'true', [TAG_VERSION]: VERSION };
    const out = await iam.send(
      new sdk.CreateRoleCommand({
        RoleName: ROLE_NAME,
        AssumeRolePolicyDocument: JSON.stringify(TRUST_POLICY),
        Description: 'Role of the Burst worker functions (created by burst runtime deploy)',
        Tags: Object.entries(allTags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    arn = out.Role?.Arn;
    created = true;
  } else {
    existing = await iam.send(new sdk.GetRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: POLICY_NAME })).then(
      (r) => r.PolicyDocument,
      (err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)),
    );
  }
  const all = [...new Set([...bucketsOf(existing), ...buckets])];
  await iam.send(
    new sdk.PutRolePolicyCommand({
      RoleName: ROLE_NAME,
      PolicyName: POLICY_NAME,
      PolicyDocument: JSON.stringify(workerPolicy(all)),
    }),
  );
  if (!arn)
    throw new BurstError('DEPLOY_FAILED', `IAM returned no ARN for the role ${ROLE_NAME}`, { backend: 'aws_lambda' });
  return { arn, created };
}

/** Deletes the role when Burst created it (tagged); returns whether it did. */
export async function deleteRole(iam: CommandClient): Promise<boolean> {
  const sdk = await import('@aws-sdk/client-iam');
  let tags: import('@aws-sdk/client-iam').Tag[];
  try {
    tags = (await iam.send(new sdk.GetRoleCommand({ RoleName: ROLE_NAME }))).Role?.Tags ?? [];
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
  if (!tags.some((t) => t.Key === TAG_MANAGED && t.Value === 'true')) return false; // a role of the same name that Burst did not make
  const inline = await iam.send(new sdk.ListRolePoliciesCommand({ RoleName: ROLE_NAME }));
  for (const PolicyName of inline.PolicyNames ?? [])
    await iam.send(new sdk.DeleteRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName }));
  const attached = await iam.send(new sdk.ListAttachedRolePoliciesCommand({ RoleName: ROLE_NAME }));
  for (const p of attached.AttachedPolicies ?? [])
    if (p.PolicyArn) await iam.send(new sdk.DetachRolePolicyCommand({ RoleName: ROLE_NAME, PolicyArn: p.PolicyArn }));
  await iam.send(new sdk.DeleteRoleCommand({ RoleName: ROLE_NAME }));
  return true;
}
