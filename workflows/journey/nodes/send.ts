import { interpolate } from '../../../core/flow/interpolate';
import type { NodeOf } from '../../../core/flow/catalogue';
import type { NodeHandler } from './types';

export const sendText: NodeHandler<NodeOf<'send_text'>> = {
  async enter({ node, variables, send }) {
    await send({ type: 'text', text: interpolate(node.data.text, variables), previewUrl: node.data.previewUrl });
    return { kind: 'next', handle: 'next' };
  },
};

export const sendMedia: NodeHandler<NodeOf<'send_media'>> = {
  async enter({ node, variables, send }) {
    const { mediaType, url, caption, filename } = node.data;
    await send({
      type: 'media',
      mediaType,
      url: interpolate(url, variables),
      caption: caption === undefined ? undefined : interpolate(caption, variables),
      filename,
    });
    return { kind: 'next', handle: 'next' };
  },
};

export const sendTemplate: NodeHandler<NodeOf<'send_template'>> = {
  async enter({ node, variables, send }) {
    await send({
      type: 'template',
      name: node.data.templateName,
      templateGroupId: node.data.templateGroupId,
      language: node.data.language,
      params: node.data.params.map((p) => interpolate(p, variables)),
    });
    return { kind: 'next', handle: 'next' };
  },
};
