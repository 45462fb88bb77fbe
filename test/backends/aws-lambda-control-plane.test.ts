/**
 * `burst runtime deploy | list | delete` for AWS Lambda against a mocked Lambda and IAM API
 * (./aws-lambda-fake.ts): the tests check the request shapes the AWS SDK documents for each call
 * (CreateFunction, PublishLayerVersion, PutFunctionEventInvokeConfig, the role's trust and
 * permission policies, tags). Nothing here reaches AWS; the names say "(mocked AWS API)".
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '../../src/version.ts';
import { createLambdaRuntimes, type LambdaRuntimeDeps } from '../../src/backends/aws_lambda/runtime.ts';
import { functionZip, layerZip, zipFiles, type BuiltZip } from '../../src/backends/aws_lambda/build.ts';
import { TRUST_POLICY } from '../../src/backends/aws_lambda/role.ts';
import type { RuntimeCommandOptions } from '../../src/runtime/types.ts';
import { FakeAws, arn } from './aws-lambda-fake.ts';

const v = VERSION.replace(/[^A-Za-z0-9]/g, '_');
let project: string;
let workerZip: BuiltZip;
const lines: string[] = [];

before(async () => {
  // A project with one production dependency (which has one of its own) and one dev dependency.
  project = await mkdtemp(join(tmpdir(), 'burst-lambda-project-'));
  const pkg = async (dir: string, json: object, files: Record<string, string> = {}): Promise<void> => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), JSON.stringify(json));
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
  };
  await pkg(project, {
    name: 'my-analysis',
    dependencies: { 'pad-it': '1.0.0', 'burst-compute': '0.1.0' },
    devDependencies: { 'test-tool': '1.0.0' },
  });
  await pkg(
    join(project, 'node_modules', 'pad-it'),
    { name: 'pad-it', dependencies: { 'left-of': '2.0.0' } },
    { 'index.js': 'export default 1;\n' },
  );
  await pkg(join(project, 'node_modules', 'left-of'), { name: 'left-of' }, { 'index.js': 'export default 2;\n' });
  await pkg(join(project, 'node_modules', 'test-tool'), { name: 'test-tool' }, { 'index.js': '' });
  await pkg(join(project, 'node_modules', 'burst-compute'), { name: 'burst-compute' }, { 'index.js': '' });
  // The real worker bundle is built once; each deploy then reuses it.
  workerZip = await functionZip(join(project, '.worker'));
});
after(async () => {
  await rm(project, { recursive: true, force: true });
});

function setup(
  backendOptions: Record<string, unknown> = {},
  extra: Partial<RuntimeCommandOptions> = {},
): { fake: FakeAws; manager: ReturnType<typeof createLambdaRuntimes>; options: RuntimeCommandOptions } {
  const fake = new FakeAws();
  const deps: LambdaRuntimeDeps = {
    lambda: fake.lambda,
    iam: fake.iam,
    sleep: async () => {},
    build: { functionZip: async () => workerZip, layerZip },
  };
  const options: RuntimeCommandOptions = {
    backendOptions: { region: 'us-east-1', ...backendOptions },
    projectDir: project,
    bucket: 'my-burst-bucket',
    memoryMB: 2048,
    log: (l) => void lines.push(l),
    ...extra,
  };
  return { fake, manager: createLambdaRuntimes(deps), options };
}

const fnName = `burst-default-2048mb-${v}`;

describe('aws_lambda runtimes: deploy, list, delete', () => {
  test('deploy creates the role, publishes the layer, creates the function and turns Lambda retries off (mocked AWS API)', async () => {
    const { fake, manager, options } = setup({ dataBuckets: ['my-data'] });
    // IAM is eventually consistent: Lambda first refuses a role that was just made.
    fake.failNext.set('CreateFunction', [
      Object.assign(new Error('The role defined for the function cannot be assumed by Lambda.'), {
        name: 'InvalidParameterValueException',
      }),
    ]);
    const info = await manager.deploy(options);
    assert.equal(info.name, fnName);
    assert.equal(info.location, arn(fnName));
    assert.equal(info.memoryMB, 2048);

    const [createRole] = fake.named('CreateRole');
    assert.equal(createRole?.RoleName, 'burst-lambda-worker');
    assert.deepEqual(JSON.parse(createRole?.AssumeRolePolicyDocument as string), TRUST_POLICY);
    assert.deepEqual(JSON.parse(createRole?.AssumeRolePolicyDocument as string).Statement[0].Principal, {
      Service: 'lambda.amazonaws.com',
    });
    assert.deepEqual(createRole?.Tags, [
      { Key: 'burst:managed', Value: 'true' },
      { Key: 'burst:version', Value: VERSION },
    ]);
    const [policy] = fake.named('PutRolePolicy');
    const doc = JSON.parse(policy?.PolicyDocument as string) as {
      Statement: Array<{ Sid: string; Action: string[]; Resource: string[] }>;
    };
    const sid = (s: string) => doc.Statement.find((x) => x.Sid === s);
    assert.deepEqual(sid('BurstObjects')?.Resource, ['arn:aws:s3:::my-burst-bucket/*', 'arn:aws:s3:::my-data/*']);
    assert.deepEqual(sid('BurstBuckets')?.Action, ['s3:ListBucket']);
    assert.deepEqual(sid('RemoteInvoker')?.Resource, ['arn:aws:lambda:*:*:function:burst-*']);
    assert.ok(!JSON.stringify(doc).includes('"*"'), 'no action or resource is a bare wildcard');

    const [layer] = fake.named('PublishLayerVersion');
    assert.equal(layer?.LayerName, `${fnName}-deps`);
    assert.deepEqual(layer?.CompatibleRuntimes, ['nodejs20.x']);
    assert.deepEqual(layer?.CompatibleArchitectures, ['x86_64']);
    const layerBytes = Buffer.from((layer?.Content as { ZipFile: Uint8Array } | undefined)?.ZipFile ?? []);
    assert.equal(layerBytes.subarray(0, 2).toString(), 'PK');
    for (const f of ['nodejs/node_modules/pad-it/index.js', 'nodejs/node_modules/left-of/index.js'])
      assert.ok(layerBytes.includes(f), `the layer holds ${f}`);
    for (const f of ['node_modules/test-tool/', 'node_modules/burst-compute/'])
      assert.ok(!layerBytes.includes(f), `the layer leaves out ${f}`);

    const creates = fake.named('CreateFunction');
    assert.equal(creates.length, 2, 'retried once while the new role propagated');
    const create = creates[1] as Record<string, unknown>;
    assert.equal(create.FunctionName, fnName);
    assert.equal(create.Runtime, 'nodejs20.x');
    assert.equal(create.Handler, 'index.handler');
    assert.equal(create.MemorySize, 2048);
    assert.equal(create.Timeout, 900);
    assert.equal(create.PackageType, 'Zip');
    assert.deepEqual(create.Architectures, ['x86_64']);
    assert.equal(create.Role, 'arn:aws:iam::123456789012:role/burst-lambda-worker');
    assert.deepEqual(create.Layers, [`arn:aws:lambda:us-east-1:123456789012:layer:${fnName}-deps:1`]);
    assert.equal(
      Buffer.from((create.Code as { ZipFile: Uint8Array }).ZipFile)
        .subarray(0, 2)
        .toString(),
      'PK',
    );
    assert.deepEqual(create.Tags, {
      'burst:managed': 'true',
      'burst:version': VERSION,
      'burst:runtime': 'default',
      'burst:memory': '2048',
    });
    assert.deepEqual((create.Environment as { Variables: Record<string, string> }).Variables.BURST_VERSION, VERSION);

    assert.deepEqual(fake.named('PutFunctionEventInvokeConfig'), [
      { FunctionName: fnName, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600 },
    ]);
    const order = fake.calls.map((c) => c.name);
    assert.ok(
      order.lastIndexOf('GetFunctionConfiguration') < order.indexOf('PutFunctionEventInvokeConfig'),
      'waits for the function to be Active first',
    );
  });

  test("a second deploy updates code, configuration and tags, keeps an unchanged layer and the role's buckets (mocked AWS API)", async () => {
    const { fake, manager, options } = setup();
    await manager.deploy(options);
    fake.calls.length = 0;
    const other = await zipFiles([['index.js', join(project, 'node_modules', 'pad-it', 'index.js')]]);
    const redeploy = createLambdaRuntimes({
      lambda: fake.lambda,
      iam: fake.iam,
      sleep: async () => {},
      build: { functionZip: async () => other, layerZip },
    });
    await redeploy.deploy({
      ...options,
      bucket: 'second-bucket',
      backendOptions: { ...options.backendOptions, functionTimeout: 300 },
    });
    const names = fake.calls.map((c) => c.name);
    assert.ok(
      !names.includes('CreateRole') && !names.includes('CreateFunction') && !names.includes('PublishLayerVersion'),
      names.join(' '),
    );
    assert.equal(fake.named('UpdateFunctionCode')[0]?.FunctionName, fnName);
    assert.equal(fake.named('UpdateFunctionConfiguration')[0]?.Timeout, 300);
    assert.deepEqual(fake.named('TagResource')[0]?.Resource, arn(fnName));
    const doc = JSON.parse(fake.named('PutRolePolicy')[0]?.PolicyDocument as string) as {
      Statement: Array<{ Sid: string; Resource: string[] }>;
    };
    assert.deepEqual(doc.Statement.find((s) => s.Sid === 'BurstBuckets')?.Resource, [
      'arn:aws:s3:::my-burst-bucket',
      'arn:aws:s3:::second-bucket',
    ]);
    assert.equal(fake.named('PutFunctionEventInvokeConfig')[0]?.MaximumRetryAttempts, 0);
  });

  test('deploy with a configured roleArn creates no role (mocked AWS API)', async () => {
    const { fake, manager, options } = setup({
      roleArn: 'arn:aws:iam::123456789012:role/mine',
      runtime: 'images',
      architecture: 'arm64',
    });
    const info = await manager.deploy(options);
    assert.equal(info.name, `burst-images-2048mb-${v}`);
    assert.equal(fake.calls.filter((c) => /Role/.test(c.name)).length, 0);
    const [create] = fake.named('CreateFunction');
    assert.equal(create?.Role, 'arn:aws:iam::123456789012:role/mine');
    assert.deepEqual(create?.Architectures, ['arm64']);
  });

  test('list finds functions by the burst- prefix and the burst:managed tag, across pages (mocked AWS API)', async () => {
    const { fake, manager, options } = setup();
    fake.addFunction(`burst-default-1024mb-${v}`, {
      'burst:managed': 'true',
      'burst:version': VERSION,
      'burst:runtime': 'default',
    });
    fake.addFunction('burst-unrelated', {});
    fake.addFunction('someone-else', { 'burst:managed': 'true' });
    fake.addFunction(
      `burst-images-3008mb-${v}`,
      { 'burst:managed': 'true', 'burst:version': VERSION, 'burst:runtime': 'images' },
      { MemorySize: 3008 },
    );
    const infos = await manager.list(options);
    assert.deepEqual(
      infos.map((i) => i.name),
      [`burst-default-1024mb-${v}`, `burst-images-3008mb-${v}`],
    );
    assert.equal(infos[1]?.memoryMB, 3008);
    assert.equal(infos[1]?.details?.runtime, 'images');
    assert.equal(fake.named('ListFunctions').length, 2, 'followed NextMarker');
  });

  test('delete of one runtime removes its functions and layer versions and keeps the role others use (mocked AWS API)', async () => {
    const { fake, manager, options } = setup();
    await manager.deploy(options);
    await manager.deploy({ ...options, backendOptions: { ...options.backendOptions, runtime: 'images' } });
    const removed = await manager.delete({ ...options, name: 'images' });
    assert.deepEqual(removed, [`burst-images-2048mb-${v}`, `burst-images-2048mb-${v}-deps (layer, 1 version)`]);
    assert.ok(fake.functions.has(fnName));
    assert.ok(fake.role, 'the role stays while a Burst function uses it');
    assert.deepEqual(fake.named('DeleteLayerVersion'), [
      { LayerName: `burst-images-2048mb-${v}-deps`, VersionNumber: 1 },
    ]);
  });

  test('delete --all removes every Burst function, its layers, orphaned layers and the role Burst made (mocked AWS API)', async () => {
    const { fake, manager, options } = setup();
    await manager.deploy(options);
    fake.layers.set('burst-leftover-128mb-x-deps', [
      { Version: 3, Description: 'Burst 0.0.9 npm dependencies of x sha256:00', LayerVersionArn: 'arn:l:3' },
    ]);
    fake.layers.set('not-ours', [{ Version: 1, Description: 'something', LayerVersionArn: 'arn:l:1' }]);
    fake.addFunction('someone-else', {});
    const removed = await manager.delete({ ...options });
    assert.deepEqual(removed, [
      fnName,
      `${fnName}-deps (layer, 1 version)`,
      'burst-leftover-128mb-x-deps (layer, 1 version)',
      'burst-lambda-worker (IAM role)',
    ]);
    assert.deepEqual([...fake.functions.keys()], ['someone-else']);
    assert.deepEqual([...fake.layers.keys()], ['not-ours']);
    assert.equal(fake.role, undefined);
    assert.deepEqual(fake.named('DeleteRolePolicy'), [{ RoleName: 'burst-lambda-worker', PolicyName: 'burst-worker' }]);
  });

  test('delete --all leaves alone a role of the same name that Burst did not make (mocked AWS API)', async () => {
    const { fake, manager, options } = setup();
    fake.role = {
      Arn: 'arn:aws:iam::123456789012:role/burst-lambda-worker',
      Tags: [],
      policies: new Map([['theirs', '{}']]),
      attached: [],
    };
    assert.deepEqual(await manager.delete(options), []);
    assert.ok(fake.role);
    assert.equal(fake.named('DeleteRole').length, 0);
  });
});
