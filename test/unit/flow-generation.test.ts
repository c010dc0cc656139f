import { checkGeneratedFlow, flowResponseFormat } from '../../core/ai/flow-generation';
import { estimateCostUsd } from '../../core/ai/pricing';
import { layoutGraph, layoutSpacing } from '../../core/flow/layout';
import { flowGraph } from '../../core/flow/schema';

const answer = (nodes: unknown[], edges: unknown[]) => JSON.stringify({ name: ' Test ', description: 'd', nodes, edges });
const trigger = { id: 'start', type: 'trigger_inbound', data: { match: 'any', keywords: [] } };
const edge = (source: string, target: string, sourceHandle = 'next') => ({ source, sourceHandle, target });

describe('checking a generated flow', () => {
  it('turns the generation schema into our graph: nulls dropped, waits given their mode, defaults filled', () => {
    const checked = checkGeneratedFlow(
      answer(
        [trigger, { id: 'pause', type: 'wait', data: { seconds: 60 } }, { id: 'agent', type: 'handoff', data: { message: null } }],
        [edge('start', 'pause'), edge('pause', 'agent')],
      ),
    );
    if (!checked.ok) throw new Error(checked.errors.join('; '));
    expect(checked.name).toBe('Test');
    expect(checked.graph.nodes.map((n) => [n.id, n.data])).toEqual([
      ['start', { match: 'any', keywords: [] }],
      ['pause', { mode: 'duration', seconds: 60 }],
      ['agent', {}],
    ]);
  });

  it('names the node in every error: schema rules, a node no trigger reaches, more than one trigger', () => {
    const tooLong = checkGeneratedFlow(answer([trigger, { id: 'menu', type: 'buttons', data: { text: 'Pick', buttons: [{ id: 'a', title: 'x'.repeat(21) }] } }], [edge('start', 'menu')]));
    expect(tooLong).toEqual({ ok: false, errors: [expect.stringMatching(/^node "menu": data.buttons.0.title: button titles are at most 20 characters/)] });
    const orphan = checkGeneratedFlow(answer([trigger, { id: 'lost', type: 'end', data: {} }], []));
    expect(orphan).toEqual({ ok: false, errors: ['node "lost": not reachable from the trigger "start": connect it or remove it'] });
    const two = checkGeneratedFlow(answer([trigger, { ...trigger, id: 'again' }], []));
    expect(two).toEqual({ ok: false, errors: ['the flow needs exactly one trigger node, it has 2'] });
    const missing = checkGeneratedFlow(answer([trigger], [edge('start', 'nowhere')]));
    expect(missing).toEqual({ ok: false, errors: ['node "start": edge to missing node "nowhere"'] });
  });

  it('asks for a schema OpenAI accepts in strict mode: every object closed with all properties required, no oneOf', () => {
    const schema = JSON.stringify(flowResponseFormat().json_schema.schema);
    expect(schema).not.toMatch(/"oneOf"|"maxLength"|"minLength"|"\$schema"/);
    const walk = (s: unknown): void => {
      if (Array.isArray(s)) return s.forEach(walk);
      if (typeof s !== 'object' || s === null) return;
      const o = s as Record<string, unknown>;
      if (o.type === 'object') {
        expect(o.additionalProperties).toBe(false);
        expect(o.required).toEqual(Object.keys(o.properties as object));
      }
      Object.values(o).forEach(walk);
    };
    walk(flowResponseFormat().json_schema.schema);
  });
});

describe('laying out a flow', () => {
  const graph = flowGraph.parse({
    nodes: [
      { id: 'q', type: 'question', data: { text: 'Age?', variable: 'age' } },
      trigger,
      { id: 'menu', type: 'buttons', data: { text: 'Pick', buttons: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] } },
      { id: 'b_end', type: 'end', data: {} },
      { id: 'a_end', type: 'end', data: {} },
      { id: 'island', type: 'end', data: {} },
    ],
    edges: [edge('start', 'menu'), edge('menu', 'b_end', 'button:b'), edge('menu', 'q', 'button:a'), edge('q', 'a_end')],
  });
  const at = (g: typeof graph) => Object.fromEntries(g.nodes.map((n) => [n.id, n.position]));
  const { column, row, marginX, marginY } = layoutSpacing;

  it('puts each node in the column of its distance from the trigger, branches in exit order, and unreached nodes last', () => {
    const p = at(layoutGraph(graph));
    expect(p.start.x).toBe(marginX);
    expect(p.menu.x).toBe(marginX + column);
    expect([p.q.x, p.b_end.x]).toEqual([marginX + 2 * column, marginX + 2 * column]);
    expect(p.q.y).toBeLessThan(p.b_end.y); // button a is the first exit
    expect(p.a_end.x).toBe(marginX + 3 * column);
    expect(p.island.x).toBe(marginX + 4 * column);
    // Columns are centred on the tallest one (two nodes high here).
    expect(p.start.y).toBe(marginY + row / 2);
    expect(p.b_end.y - p.q.y).toBe(row);
  });

  it('changes nothing but positions', () => {
    const laid = layoutGraph(graph);
    expect(laid.edges).toEqual(graph.edges);
    expect(laid.nodes.map(({ position: _p, ...rest }) => rest)).toEqual(graph.nodes.map(({ position: _p, ...rest }) => rest));
  });
});

describe('estimating the cost of a call', () => {
  it('prices a model and its dated variants per million tokens, and leaves an unknown model unpriced', () => {
    expect(estimateCostUsd('gpt-4.1-mini', 1_000_000, 1_000_000)).toBeCloseTo(2.0, 10);
    expect(estimateCostUsd('gpt-4.1-mini-2025-04-14', 1000, 0)).toBeCloseTo(0.0004, 12);
    expect(estimateCostUsd('gpt-4.1', 1000, 0)).toBeCloseTo(0.002, 12);
    expect(estimateCostUsd('llama3.1:8b', 1000, 1000)).toBeNull();
  });
});
