import { normalizeAnswer } from '../../../core/flow/answers';
import { interpolate } from '../../../core/flow/interpolate';
import type { NodeOf } from '../../../core/flow/catalogue';
import type { NodeHandler } from './types';

/**
 * Asks, waits, validates. An invalid answer is answered with the node's `invalidText` and the question is
 * asked again, up to `maxRetries` times; after that the journey leaves through the `invalid` exit.
 */
export const question: NodeHandler<NodeOf<'question'>> = {
  async enter({ node, variables, memory, send }) {
    memory.retries = 0;
    await send({ type: 'text', text: interpolate(node.data.text, variables) });
    return { kind: 'wait_reply' };
  },
  async reply({ node, variables, memory, send }, message) {
    const value = normalizeAnswer(node.data.validation, message.text ?? '', node.data.pattern);
    if (value !== undefined) {
      variables[node.data.variable] = value;
      return { kind: 'next', handle: 'next' };
    }
    memory.retries = (memory.retries ?? 0) + 1;
    if (memory.retries > node.data.maxRetries) return { kind: 'next', handle: 'invalid' };
    await send({ type: 'text', text: interpolate(node.data.invalidText, variables) });
    await send({ type: 'text', text: interpolate(node.data.text, variables) });
    return { kind: 'wait_reply' };
  },
};
