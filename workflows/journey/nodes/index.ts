import { aiReply } from './ai-reply';
import { buttons, list } from './choices';
import { condition, end, gotoFlow, handoff, httpRequest, setVariable, wait } from './logic';
import { question } from './question';
import { sendMedia, sendTemplate, sendText } from './send';
import { passThrough } from './triggers';
import type { HandlerRegistry } from './types';

export const handlers: HandlerRegistry = {
  trigger_inbound: passThrough,
  trigger_outbound: passThrough,
  trigger_api_lead: passThrough,
  trigger_api: passThrough,
  send_text: sendText,
  send_media: sendMedia,
  send_template: sendTemplate,
  buttons,
  list,
  question,
  condition,
  set_variable: setVariable,
  wait,
  http_request: httpRequest,
  handoff,
  goto_flow: gotoFlow,
  end,
  ai_reply: aiReply,
};
