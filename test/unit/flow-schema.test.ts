import { ZodError } from 'zod';
import { flowGraph } from '../../core/flow/schema';
import { fromDrawflow, toDrawflow } from '../../core/flow/drawflow';

const sample = {
  nodes: [
    { id: '1', type: 'trigger_outbound', position: { x: 10, y: 20 }, data: {} },
    { id: '2', type: 'question', position: { x: 200, y: 20 }, data: { text: 'How old are you, {{customerName}}?', variable: 'age', validation: 'number' } },
    { id: '3', type: 'condition', position: { x: 400, y: 20 }, data: { rules: [{ variable: 'age', operator: 'greater_than', value: '17' }] } },
    { id: '4', type: 'buttons', position: { x: 600, y: 0 }, data: { text: 'Pick one', buttons: [{ id: 'yes', title: 'Yes' }, { id: 'no', title: 'No' }] } },
    { id: '5', type: 'end', position: { x: 800, y: 40 }, data: {} },
  ],
  edges: [
    { source: '1', target: '2' },
    { source: '2', sourceHandle: 'next', target: '3' },
    { source: '3', sourceHandle: 'true', target: '4' },
    { source: '3', sourceHandle: 'false', target: '5' },
    { source: '4', sourceHandle: 'button:no', target: '5' },
  ],
};

function issuesOf(input: unknown): string[] {
  const result = flowGraph.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => i.message);
}

describe('flow schema', () => {
  it('accepts a valid graph and fills defaults', () => {
    const graph = flowGraph.parse(sample);
    const question = graph.nodes.find((n) => n.id === '2');
    expect(question).toMatchObject({ data: { maxRetries: 2, validation: 'number' } });
    expect(graph.edges[0]).toMatchObject({ sourceHandle: 'next', id: '1:next->2' });
  });

  it('names the node with an unknown type', () => {
    expect(issuesOf({ nodes: [{ id: 'n7', type: 'teleport', data: {} }] })).toEqual([expect.stringMatching(/^node "n7": unknown node type "teleport"/)]);
  });

  it('names the node whose edge points to a missing node', () => {
    expect(issuesOf({ ...sample, edges: [{ source: '1', target: 'ghost' }] })).toEqual(['node "1": edge to missing node "ghost"']);
  });

  it('rejects an exit the node does not have, and a node with invalid data', () => {
    expect(issuesOf({ ...sample, edges: [{ source: '3', sourceHandle: 'maybe', target: '5' }] })[0]).toMatch(/node "3": has no exit "maybe" \(exits: true, false\)/);
    const tooManyButtons = { nodes: [{ id: 'b', type: 'buttons', data: { text: 'x', buttons: [1, 2, 3, 4].map((i) => ({ id: `b${i}`, title: 't' })) } }] };
    expect(issuesOf(tooManyButtons)[0]).toMatch(/node "b": data.buttons: WhatsApp allows at most 3 reply buttons/);
    expect(issuesOf({ nodes: [{ id: 'q', type: 'question', data: { text: 'x', variable: 'v', validation: 'regex', pattern: '(' } }] })[0]).toMatch(/pattern/);
  });

  it('rejects duplicate ids and one exit wired twice', () => {
    expect(issuesOf({ nodes: [sample.nodes[0], sample.nodes[0]] })).toEqual(['node "1": duplicate node id']);
    expect(issuesOf({ ...sample, edges: [{ source: '1', target: '2' }, { source: '1', target: '3' }] })).toEqual(['node "1": exit "next" is connected twice']);
  });
});

describe('Drawflow import and export', () => {
  it('round-trips a graph through Drawflow without losing anything', () => {
    const graph = flowGraph.parse(sample);
    const drawflow = toDrawflow(graph);
    expect(fromDrawflow(drawflow)).toEqual(graph);
    expect(toDrawflow(fromDrawflow(drawflow))).toEqual(drawflow);
  });

  it("imports the editor's own document: numeric ids, output_N exits, editor-only fields kept", () => {
    const doc = {
      drawflow: {
        Home: {
          data: {
            '1': { id: 1, name: 'trigger_inbound', data: { match: 'any' }, class: 'trigger', html: '<b>Start</b>', typenode: false, inputs: {}, outputs: { output_1: { connections: [{ node: '2', output: 'input_1' }] } }, pos_x: 5, pos_y: 6 },
            '2': { id: 2, name: 'buttons', data: { text: 'Menu', buttons: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] }, class: 'buttons', html: '', typenode: false, inputs: { input_1: { connections: [{ node: '1', input: 'output_1' }] } }, outputs: { output_1: { connections: [] }, output_2: { connections: [{ node: '3', output: 'input_1' }] } }, pos_x: 50, pos_y: 60 },
            '3': { id: 3, name: 'end', data: {}, class: 'end', html: '', typenode: false, inputs: { input_1: { connections: [{ node: '2', input: 'output_2' }] } }, outputs: {}, pos_x: 90, pos_y: 60 },
          },
        },
      },
    };
    const graph = fromDrawflow(doc);
    expect(graph.edges).toEqual([
      { id: '1:next->2', source: '1', sourceHandle: 'next', target: '2' },
      { id: '2:button:b->3', source: '2', sourceHandle: 'button:b', target: '3' },
    ]);
    expect(graph.nodes[0].ui).toEqual({ class: 'trigger', html: '<b>Start</b>', typenode: false, numericId: true });
    const back = toDrawflow(graph).drawflow.Home.data as Record<string, Record<string, unknown>>;
    expect(back['1']).toMatchObject({ id: 1, class: 'trigger', html: '<b>Start</b>', outputs: doc.drawflow.Home.data['1'].outputs });
    expect(back['2'].inputs).toEqual(doc.drawflow.Home.data['2'].inputs);
    expect(back['2'].outputs).toEqual(doc.drawflow.Home.data['2'].outputs);
    expect(back['3'].inputs).toEqual(doc.drawflow.Home.data['3'].inputs);
  });

  it('reports an unknown node type in Drawflow by its id', () => {
    const doc = { drawflow: { Home: { data: { '9': { id: 9, name: 'mystery', data: {}, inputs: {}, outputs: {}, pos_x: 0, pos_y: 0 } } } } };
    expect(() => fromDrawflow(doc)).toThrow(ZodError);
    try {
      fromDrawflow(doc);
    } catch (err) {
      expect((err as ZodError).issues[0].message).toMatch(/node "9": unknown node type "mystery"/);
    }
  });
});
