/** A flow that asks two questions in turn, forever, after its trigger: every answer brings the next question. */
export const questionLoop = (trigger: object = { id: 'start', type: 'trigger_outbound', data: {} }) => ({
  nodes: [
    trigger,
    { id: 'ask1', type: 'question', data: { text: 'First question?', variable: 'a1' } },
    { id: 'ask2', type: 'question', data: { text: 'Second question?', variable: 'a2' } },
  ],
  edges: [
    { source: 'start', target: 'ask1' },
    { source: 'ask1', target: 'ask2' },
    { source: 'ask2', target: 'ask1' },
  ],
});
