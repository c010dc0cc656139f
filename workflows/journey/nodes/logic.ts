import { conditionHolds } from '../../../core/flow/conditions';
import { interpolate } from '../../../core/flow/interpolate';
import type { NodeOf } from '../../../core/flow/catalogue';
import type { NodeHandler } from './types';

export const condition: NodeHandler<NodeOf<'condition'>> = {
  enter: async ({ node, variables }) => ({
    kind: 'next',
    handle: conditionHolds(node.data.combinator, node.data.rules, variables) ? 'true' : 'false',
  }),
};

export const setVariable: NodeHandler<NodeOf<'set_variable'>> = {
  async enter({ node, variables }) {
    variables[node.data.variable] = interpolate(node.data.value, variables);
    return { kind: 'next', handle: 'next' };
  },
};

export const wait: NodeHandler<NodeOf<'wait'>> = {
  async enter({ node }) {
    if (node.data.mode === 'duration') return { kind: 'wait_timer', seconds: node.data.seconds, handle: 'next' };
    return { kind: 'wait_reply', timeoutSeconds: node.data.timeoutSeconds, timeoutHandle: 'timeout' };
  },
  async reply({ node, variables }, message) {
    if (node.data.mode === 'reply' && node.data.variable) variables[node.data.variable] = message.text ?? message.choiceId ?? '';
    return { kind: 'next', handle: 'next' };
  },
};

/** Reads `a.b.0.c` out of a JSON value. */
function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);
}

export const httpRequest: NodeHandler<NodeOf<'http_request'>> = {
  async enter({ node, variables, callHttp }) {
    const { method, url, headers, body, timeoutSeconds, responseMapping } = node.data;
    const result = await callHttp({
      method,
      url: interpolate(url, variables),
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, interpolate(v, variables)])),
      body: body === undefined ? undefined : interpolate(body, variables),
      timeoutSeconds,
    });
    variables[`${node.id}_status`] = String(result.status);
    for (const [variable, path] of Object.entries(responseMapping)) {
      const value = at(result.data, path);
      variables[variable] = value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
    return { kind: 'next', handle: result.ok ? 'success' : 'error' };
  },
};

export const handoff: NodeHandler<NodeOf<'handoff'>> = {
  async enter({ node, variables, send }) {
    if (node.data.message) await send({ type: 'text', text: interpolate(node.data.message, variables) });
    return { kind: 'handoff' };
  },
};

export const gotoFlow: NodeHandler<NodeOf<'goto_flow'>> = {
  enter: async ({ node }) => ({ kind: 'goto_flow', flowId: node.data.flowId }),
};

export const end: NodeHandler<NodeOf<'end'>> = {
  enter: async () => ({ kind: 'end' }),
};
