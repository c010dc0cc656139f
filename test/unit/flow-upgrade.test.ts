import { flowGraph } from '../../core/flow/schema';
import { toDrawflow } from '../../core/flow/drawflow';
import { upgradeFlowGraph } from '../../core/flow/upgrade';
import { legacyFlowGraph } from '../support/legacy-flow';

function upgraded(input: unknown) {
  const result = upgradeFlowGraph(input);
  if (!result.ok) throw new Error(`expected a valid upgrade, got: ${result.errors.join('; ')}`);
  return result;
}

describe('flow shape upgrade', () => {
  it('renames message nodes to send_text and moves data.message to data.text', () => {
    const { graph, changes } = upgraded(legacyFlowGraph);
    expect(graph.nodes[1]).toMatchObject({ id: '2', type: 'send_text', data: { text: 'Hi {{customerName}}' } });
    expect(graph.nodes[1].data).not.toHaveProperty('message');
    expect(changes).toContain('node "2": message → send_text (data.message → data.text)');
  });

  it('turns a list of button option strings into buttons with ids, and rewires output_N to those buttons', () => {
    const { graph, changes } = upgraded(legacyFlowGraph);
    expect(graph.nodes[2]).toMatchObject({
      type: 'buttons',
      data: { text: 'Still interested?', buttons: [{ id: 'option_1', title: 'Yes' }, { id: 'option_2', title: 'No' }] },
    });
    expect(graph.nodes[2].data).not.toHaveProperty('options');
    expect(graph.edges.filter((e) => e.source === '3')).toEqual([
      { id: '3:button:option_1->4', source: '3', sourceHandle: 'button:option_1', target: '4' },
      { id: '3:button:option_2->5', source: '3', sourceHandle: 'button:option_2', target: '5' },
    ]);
    expect(changes).toContain('node "3": edge exit output_2 → button:option_2');
  });

  it('turns delay into a duration wait, whatever unit the delay was given in', () => {
    expect(upgraded(legacyFlowGraph).graph.nodes[3]).toMatchObject({ type: 'wait', data: { mode: 'duration', seconds: 300 } });
    expect(upgraded({ nodes: [{ id: 'h', type: 'delay', data: { delay: 2, unit: 'hours' } }] }).graph.nodes[0].data).toEqual({ mode: 'duration', seconds: 7200 });
    const minutes = upgraded({ nodes: [{ id: 'd', type: 'delay', data: { minutes: 1, seconds: 30 } }] });
    expect(minutes.graph.nodes[0].data).toEqual({ mode: 'duration', seconds: 90 });
  });

  it('renames the legacy trigger types', () => {
    const { graph, changes } = upgraded({
      nodes: [
        { id: 'a', type: 'api_lead_trigger', data: { phoneField: 'mobile' } },
        { id: 'b', type: 'outbound_trigger', data: {} },
      ],
    });
    expect(graph.nodes.map((n) => n.type)).toEqual(['trigger_api_lead', 'trigger_outbound']);
    expect(graph.nodes[0].data).toMatchObject({ phoneField: 'mobile' });
    expect(changes).toEqual(['node "a": api_lead_trigger → trigger_api_lead', 'node "b": outbound_trigger → trigger_outbound']);
  });

  it('converts a graph stored as a Drawflow document, upgrading its nodes on the way', () => {
    const doc = {
      drawflow: {
        Home: {
          data: {
            '1': { id: 1, name: 'outbound_trigger', data: {}, inputs: {}, outputs: { output_1: { connections: [{ node: '2', output: 'input_1' }] } }, pos_x: 1, pos_y: 2 },
            '2': { id: 2, name: 'message', data: { message: 'Hello' }, inputs: { input_1: { connections: [{ node: '1', input: 'output_1' }] } }, outputs: { output_1: { connections: [] } }, pos_x: 3, pos_y: 4 },
          },
        },
      },
    };
    const { graph, changes } = upgraded(doc);
    expect(graph.nodes.map((n) => [n.id, n.type, n.position])).toEqual([
      ['1', 'trigger_outbound', { x: 1, y: 2 }],
      ['2', 'send_text', { x: 3, y: 4 }],
    ]);
    expect(graph.edges).toEqual([{ id: '1:next->2', source: '1', sourceHandle: 'next', target: '2' }]);
    expect(changes).toEqual(['node "1": outbound_trigger → trigger_outbound', 'node "2": message → send_text (data.message → data.text)', 'stored as a Drawflow document → converted to the flow graph']);
  });

  it('reports no change for a graph already in current shapes, and leaves the input untouched', () => {
    const current = flowGraph.parse(upgraded(legacyFlowGraph).graph);
    const again = upgradeFlowGraph(current);
    expect(again).toEqual({ ok: true, graph: current, changes: [] });
    const copy = structuredClone(legacyFlowGraph);
    upgradeFlowGraph(legacyFlowGraph);
    expect(legacyFlowGraph).toEqual(copy);
    const asDrawflow = toDrawflow(current);
    expect(upgradeFlowGraph(asDrawflow).changes).toEqual(['stored as a Drawflow document → converted to the flow graph']);
  });

  it('reports what is still invalid after the upgrade, naming the node', () => {
    const result = upgradeFlowGraph({ nodes: [{ id: 'x', type: 'teleport', data: {} }, { id: 'm', type: 'message', data: { message: 'hi' } }] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([expect.stringMatching(/^node "x": unknown node type "teleport"/)]);
    expect(result.changes).toEqual(['node "m": message → send_text (data.message → data.text)']);
    const tooMany = upgradeFlowGraph({ nodes: [{ id: 'b', type: 'buttons', data: { message: 'Pick', options: ['1', '2', '3', '4'] } }] });
    expect(tooMany.ok).toBe(false);
    if (!tooMany.ok) expect(tooMany.errors[0]).toMatch(/node "b": data.buttons: WhatsApp allows at most 3 reply buttons/);
  });
});
