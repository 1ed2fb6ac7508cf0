import {
  type CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type Parameter,
  type Stack,
  UpdateStackCommand,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { StorageError, type TwinvaultError } from '../errors.js';
import { replicatorTemplate } from './replicator-template.js';

export interface StackRequest {
  client: CloudFormationClient;
  stackName: string;
  parameters: Record<string, string>;
  /** Longest wait for the stack to settle (ms). */
  maxWaitMs?: number;
}

export interface StackResult {
  stackName: string;
  status: string;
  action: 'created' | 'updated' | 'unchanged';
  outputs: Record<string, string>;
}

/**
 * Creates the replicator's stack, or updates it when it exists, and waits for CloudFormation to
 * finish. A failure names the resources that failed and why (from the stack's events).
 */
export async function deployStack(request: StackRequest): Promise<StackResult> {
  const { client, stackName } = request;
  const existing = await describe(client, stackName);
  const input = {
    StackName: stackName,
    TemplateBody: JSON.stringify(replicatorTemplate()),
    Parameters: Object.entries(request.parameters).map(
      ([ParameterKey, ParameterValue]): Parameter => ({ ParameterKey, ParameterValue }),
    ),
    Capabilities: ['CAPABILITY_IAM' as const],
  };
  const waiter = {
    client,
    maxWaitTime: Math.round((request.maxWaitMs ?? 1_800_000) / 1000),
    minDelay: 2,
    maxDelay: 15,
  };
  let action: StackResult['action'];
  try {
    if (existing && existing.StackStatus !== 'REVIEW_IN_PROGRESS') {
      try {
        await client.send(new UpdateStackCommand(input));
      } catch (err) {
        if (/No updates are to be performed/i.test((err as Error).message)) {
          return result(stackName, existing, 'unchanged');
        }
        throw err;
      }
      action = 'updated';
      await waitUntilStackUpdateComplete(waiter, { StackName: stackName });
    } else {
      await client.send(new CreateStackCommand({ ...input, OnFailure: 'DELETE' }));
      action = 'created';
      await waitUntilStackCreateComplete(waiter, { StackName: stackName });
    }
  } catch (err) {
    throw await failure(client, stackName, err);
  }
  return result(stackName, (await describe(client, stackName))!, action);
}

export async function deleteStack(
  client: CloudFormationClient,
  stackName: string,
  maxWaitMs = 1_800_000,
): Promise<boolean> {
  if (!(await describe(client, stackName))) return false;
  try {
    await client.send(new DeleteStackCommand({ StackName: stackName }));
    await waitUntilStackDeleteComplete(
      { client, maxWaitTime: Math.round(maxWaitMs / 1000), minDelay: 2, maxDelay: 15 },
      { StackName: stackName },
    );
  } catch (err) {
    throw await failure(client, stackName, err);
  }
  return true;
}

async function describe(client: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return Stacks?.[0];
  } catch (err) {
    if (/does not exist/i.test((err as Error).message)) return undefined;
    throw new StorageError(`cannot read the CloudFormation stack ${stackName}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function result(stackName: string, stack: Stack, action: StackResult['action']): StackResult {
  const outputs = Object.fromEntries(
    (stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
  );
  return { stackName, status: stack.StackStatus ?? 'UNKNOWN', action, outputs };
}

/** The error to show: CloudFormation's own reasons for the resources that failed. */
async function failure(
  client: CloudFormationClient,
  stackName: string,
  cause: unknown,
): Promise<TwinvaultError> {
  let reasons: string[] = [];
  try {
    const { StackEvents } = await client.send(new DescribeStackEventsCommand({ StackName: stackName }));
    reasons = (StackEvents ?? [])
      .filter((e) => e.ResourceStatus?.endsWith('_FAILED') && e.ResourceStatusReason)
      .slice(0, 5)
      .map((e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`);
  } catch {
    // The stack may be gone (rolled back and deleted): the cause alone must do.
  }
  const detail = reasons.length > 0 ? reasons.join('; ') : (cause as Error).message;
  return new StorageError(`CloudFormation could not deploy the stack ${stackName}: ${detail}`, {
    cause,
    hint: 'see the stack events in the CloudFormation console; fix the cause and run twinvault deploy again',
  });
}
