import { isGrpcServiceError, type Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { allSearchAttributeKeys } from './search-attributes';

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;

/**
 * Makes sure a Temporal namespace knows our search attributes, adding the missing ones through the operator
 * service. Safe to run on every start and from several processes at once: an attribute that already exists
 * (or that another replica adds at the same moment) is left alone. Returns the names it added.
 */
export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly { name: string; type: SearchAttributeType }[] = allSearchAttributeKeys,
): Promise<string[]> {
  let existing: Record<string, number>;
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND) {
      throw new Error(`Temporal namespace "${namespace}" does not exist: create it first (temporal operator namespace create --namespace ${namespace})`);
    }
    throw err;
  }

  const missing: Record<string, number> = {};
  for (const key of keys) {
    const wanted = encodeSearchAttributeIndexedValueType(key.type)!;
    const current = existing[key.name];
    if (current === undefined) missing[key.name] = wanted;
    else if (current !== wanted) {
      throw new Error(`Search attribute ${key.name} exists in namespace "${namespace}" with another type (${current}); FlowBot needs ${key.type}`);
    }
  }
  // One at a time, so that an attribute another replica added meanwhile does not keep the others out.
  for (const [name, type] of Object.entries(missing)) {
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: { [name]: type } });
    } catch (err) {
      if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
    }
  }
  return Object.keys(missing);
}
