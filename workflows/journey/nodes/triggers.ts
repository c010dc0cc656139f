import type { NodeOf } from '../../../core/flow/catalogue';
import type { NodeHandler } from './types';

/** Triggers only mark where a journey starts; the trigger's own work happened before the journey. */
export const passThrough: NodeHandler<NodeOf<'trigger_inbound' | 'trigger_outbound' | 'trigger_api_lead' | 'trigger_api'>> = {
  enter: async () => ({ kind: 'next', handle: 'next' }),
};
