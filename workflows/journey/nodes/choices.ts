import { interpolate } from '../../../core/flow/interpolate';
import type { NodeOf } from '../../../core/flow/catalogue';
import type { InboundMessage } from '../../../core/journey/types';
import type { NodeContext, NodeHandler, Outcome } from './types';

type Choice = { id: string; title: string };

/** A tap sends the choice id; a typed answer matching a title (or its number in the list) counts too. */
function pick(choices: Choice[], message: InboundMessage): Choice | undefined {
  if (message.choiceId) return choices.find((c) => c.id === message.choiceId);
  const text = (message.text ?? '').trim().toLowerCase();
  const byIndex = /^\d+$/.test(text) ? choices[Number(text) - 1] : undefined;
  return byIndex ?? choices.find((c) => c.title.trim().toLowerCase() === text);
}

/** An unrecognised answer re-sends the choices once per answer; the journey keeps waiting. */
async function answer<N extends NodeOf<'buttons' | 'list'>>(
  ctx: NodeContext<N>,
  choices: Choice[],
  prefix: 'button' | 'row',
  resend: () => Promise<unknown>,
  message: InboundMessage,
): Promise<Outcome> {
  const chosen = pick(choices, message);
  if (!chosen) {
    await resend();
    return { kind: 'wait_reply' };
  }
  ctx.variables[`${ctx.node.id}_choice`] = chosen.title;
  ctx.variables.lastChoice = chosen.title;
  return { kind: 'next', handle: `${prefix}:${chosen.id}` };
}

export const buttons: NodeHandler<NodeOf<'buttons'>> = {
  async enter(ctx) {
    await sendButtons(ctx);
    return { kind: 'wait_reply' };
  },
  reply: (ctx, message) => answer(ctx, ctx.node.data.buttons, 'button', () => sendButtons(ctx), message),
};

function sendButtons(ctx: NodeContext<NodeOf<'buttons'>>) {
  return ctx.send({ type: 'buttons', text: interpolate(ctx.node.data.text, ctx.variables), buttons: ctx.node.data.buttons });
}

export const list: NodeHandler<NodeOf<'list'>> = {
  async enter(ctx) {
    await sendList(ctx);
    return { kind: 'wait_reply' };
  },
  reply: (ctx, message) => answer(ctx, ctx.node.data.rows, 'row', () => sendList(ctx), message),
};

function sendList(ctx: NodeContext<NodeOf<'list'>>) {
  const { text, buttonLabel, rows } = ctx.node.data;
  return ctx.send({ type: 'list', text: interpolate(text, ctx.variables), buttonLabel, rows });
}
