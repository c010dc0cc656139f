/**
 * A flow as the Drawflow-era builder stored it: old node names and data, exits named output_N. Every rule of
 * core/flow/upgrade.ts except the Drawflow-document one has something to do here.
 */
export const legacyFlowGraph = {
  nodes: [
    { id: '1', type: 'outbound_trigger', position: { x: 0, y: 0 }, data: {} },
    { id: '2', type: 'message', position: { x: 100, y: 0 }, data: { message: 'Hi {{customerName}}' } },
    { id: '3', type: 'buttons', position: { x: 200, y: 0 }, data: { message: 'Still interested?', options: ['Yes', 'No'] } },
    { id: '4', type: 'delay', position: { x: 300, y: 0 }, data: { delay: 5, unit: 'minutes' } },
    { id: '5', type: 'end', position: { x: 400, y: 0 }, data: {} },
  ],
  edges: [
    { source: '1', sourceHandle: 'output_1', target: '2' },
    { source: '2', sourceHandle: 'output_1', target: '3' },
    { source: '3', sourceHandle: 'output_1', target: '4' },
    { source: '3', sourceHandle: 'output_2', target: '5' },
    { source: '4', sourceHandle: 'output_1', target: '5' },
  ],
};
