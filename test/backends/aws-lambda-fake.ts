/**
 * A stand-in for the Lambda and IAM APIs, for the control-plane tests: it receives the real SDK
 * command objects (their `input` is the documented request shape), records them, and answers from a
 * small in-memory state with the response and error shapes the SDK documents. No network.
 */
import type { FunctionConfiguration } from '@aws-sdk/client-lambda';

/** One command as the fake received it. */
export interface Received {
  name: string;
  input: Record<string, unknown>;
}

interface Fn {
  config: FunctionConfiguration;
  tags: Record<string, string>;
  /** GetFunctionConfiguration answers Pending this many more times. */
  pending: number;
}

interface LayerVersion {
  Version: number;
  Description: string;
  LayerVersionArn: string;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

const awsError = (name: string, message: string, status: number): Error =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });

/** The fake; see the file header. */
export class FakeAws {
  readonly calls: Received[] = [];
  readonly functions = new Map<string, Fn>();
  readonly layers = new Map<string, LayerVersion[]>();
  role:
    | { Arn: string; Tags: Array<{ Key: string; Value: string }>; policies: Map<string, string>; attached: string[] }
    | undefined;
  /** Errors to throw for the next commands of a name, in order. */
  readonly failNext = new Map<string, Error[]>();
  /** Functions start Pending for this many polls. */
  pendingPolls = 1;

  readonly lambda = { send: (command: object): Promise<never> => this.handle(command) as Promise<never> };
  readonly iam = { send: (command: object): Promise<never> => this.handle(command) as Promise<never> };

  /** The commands of a name, in order. */
  named(name: string): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.name === name).map((c) => c.input);
  }

  /** Adds a function as if deployed earlier. */
  addFunction(name: string, tags: Record<string, string>, extra: Partial<FunctionConfiguration> = {}): void {
    this.functions.set(name, {
      config: {
        FunctionName: name,
        FunctionArn: arn(name),
        State: 'Active',
        LastUpdateStatus: 'Successful',
        MemorySize: 1024,
        ...extra,
      },
      tags,
      pending: 0,
    });
  }

  private async handle(command: object): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    const input = (command as { input: Record<string, unknown> }).input;
    this.calls.push({ name, input });
    const queued = this.failNext.get(name)?.shift();
    if (queued) throw queued;
    const fnName = input.FunctionName as string;
    const fn = this.functions.get(fnName);
    const noFn = (): Error => awsError('ResourceNotFoundException', `Function not found: ${arn(fnName)}`, 404);
    switch (name) {
      case 'GetRole':
        if (!this.role)
          throw awsError('NoSuchEntityException', `The role with name ${String(input.RoleName)} cannot be found.`, 404);
        return { Role: { RoleName: input.RoleName, Arn: this.role.Arn, Tags: this.role.Tags } };
      case 'CreateRole':
        this.role = {
          Arn: `arn:aws:iam::${ACCOUNT}:role/${String(input.RoleName)}`,
          Tags: input.Tags as Array<{ Key: string; Value: string }>,
          policies: new Map(),
          attached: [],
        };
        return { Role: { Arn: this.role.Arn } };
      case 'GetRolePolicy': {
        const doc = this.role?.policies.get(input.PolicyName as string);
        if (!doc) throw awsError('NoSuchEntityException', 'no such policy', 404);
        return { PolicyDocument: encodeURIComponent(doc) }; // IAM returns it URL-encoded
      }
      case 'PutRolePolicy':
        this.role?.policies.set(input.PolicyName as string, input.PolicyDocument as string);
        return {};
      case 'ListRolePolicies':
        return { PolicyNames: [...(this.role?.policies.keys() ?? [])] };
      case 'ListAttachedRolePolicies':
        return { AttachedPolicies: (this.role?.attached ?? []).map((PolicyArn) => ({ PolicyArn })) };
      case 'DeleteRolePolicy':
        this.role?.policies.delete(input.PolicyName as string);
        return {};
      case 'DetachRolePolicy':
        if (this.role) this.role.attached = this.role.attached.filter((a) => a !== input.PolicyArn);
        return {};
      case 'DeleteRole':
        if (this.role?.policies.size || this.role?.attached.length)
          throw awsError('DeleteConflictException', 'Cannot delete entity, must delete policies first.', 409);
        this.role = undefined;
        return {};
      case 'ListLayerVersions':
        return { LayerVersions: [...(this.layers.get(input.LayerName as string) ?? [])].reverse() };
      case 'PublishLayerVersion': {
        const list = this.layers.get(input.LayerName as string) ?? [];
        const Version = list.length + 1;
        const v = {
          Version,
          Description: input.Description as string,
          LayerVersionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:${String(input.LayerName)}:${Version}`,
        };
        list.push(v);
        this.layers.set(input.LayerName as string, list);
        return { ...v, Version };
      }
      case 'DeleteLayerVersion': {
        const list = this.layers.get(input.LayerName as string) ?? [];
        this.layers.set(
          input.LayerName as string,
          list.filter((v) => v.Version !== input.VersionNumber),
        );
        if (this.layers.get(input.LayerName as string)?.length === 0) this.layers.delete(input.LayerName as string);
        return {};
      }
      case 'ListLayers':
        return {
          Layers: [...this.layers.entries()].map(([LayerName, vs]) => ({
            LayerName,
            LatestMatchingVersion: vs[vs.length - 1],
          })),
        };
      case 'GetFunctionConfiguration':
        if (!fn) throw noFn();
        if (fn.pending > 0) {
          fn.pending--;
          return {
            ...fn.config,
            State: fn.config.State === 'Active' ? 'Active' : 'Pending',
            LastUpdateStatus: 'InProgress',
          };
        }
        fn.config.State = 'Active';
        return { ...fn.config, LastUpdateStatus: 'Successful' };
      case 'CreateFunction':
        if (fn) throw awsError('ResourceConflictException', `Function already exist: ${fnName}`, 409);
        this.functions.set(fnName, {
          config: {
            FunctionName: fnName,
            FunctionArn: arn(fnName),
            State: 'Pending',
            MemorySize: input.MemorySize as number,
            Layers: ((input.Layers as string[]) ?? []).map((Arn) => ({ Arn })),
          },
          tags: input.Tags as Record<string, string>,
          pending: this.pendingPolls,
        });
        return { FunctionName: fnName, FunctionArn: arn(fnName), State: 'Pending' };
      case 'UpdateFunctionCode':
      case 'UpdateFunctionConfiguration':
        if (!fn) throw noFn();
        fn.pending = this.pendingPolls;
        return fn.config;
      case 'TagResource':
        for (const f of this.functions.values())
          if (f.config.FunctionArn === input.Resource) Object.assign(f.tags, input.Tags);
        return {};
      case 'PutFunctionEventInvokeConfig':
        if (!fn) throw noFn();
        return {
          FunctionArn: fn.config.FunctionArn,
          MaximumRetryAttempts: input.MaximumRetryAttempts,
          MaximumEventAgeInSeconds: input.MaximumEventAgeInSeconds,
        };
      case 'ListFunctions': {
        // Pages of two, to exercise the Marker loop.
        const all = [...this.functions.values()].map((f) => f.config);
        const start = Number(input.Marker ?? 0);
        return {
          Functions: all.slice(start, start + 2),
          ...(start + 2 < all.length ? { NextMarker: String(start + 2) } : {}),
        };
      }
      case 'ListTags':
        return { Tags: [...this.functions.values()].find((f) => f.config.FunctionArn === input.Resource)?.tags ?? {} };
      case 'DeleteFunction':
        if (!fn) throw noFn();
        this.functions.delete(fnName);
        return {};
      default:
        throw new Error(`the fake AWS does not know ${name}`);
    }
  }
}

/** The ARN of a function in the fake account. */
export function arn(name: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
}
