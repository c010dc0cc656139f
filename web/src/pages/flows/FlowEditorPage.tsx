import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesState,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, errorText, type FlowDetail, type Graph } from '../../api';
import { ErrorBanner, Notice } from '../../components/ErrorBanner';
import { useLoad } from '../../components/useLoad';
import { useT } from '../../i18n';
import { Link } from '../../router';
import { useSession } from '../../session';
import { checkGraph, isTriggerType, issuesFromApiError, newNodeId, nodeSpecs, type GraphIssues, type NodeType } from './catalogue';
import { DrawflowDialog } from './DrawflowDialog';
import { connectExit, edgeId, fromCanvas, pruneEdges, toCanvas, type StepNode } from './graph';
import { NodePanel } from './NodePanel';
import { Palette } from './Palette';
import { IssuesContext, StepNodeView } from './StepNodeView';
import { TestPanel } from './TestPanel';
import { VersionsPanel } from './VersionsPanel';

const nodeTypesMap = { step: StepNodeView };

export function FlowEditorPage(props: { flowId: string; focusNode?: string }) {
  return (
    <ReactFlowProvider>
      <FlowEditor {...props} />
    </ReactFlowProvider>
  );
}

function mergeIssues(a: GraphIssues, b: GraphIssues | null): GraphIssues {
  if (!b) return a;
  const byNode = new Map(a.byNode);
  for (const [id, list] of b.byNode) byNode.set(id, [...(byNode.get(id) ?? []), ...list]);
  return { byNode, general: [...a.general, ...b.general], count: a.count + b.count };
}

function FlowEditor({ flowId, focusNode }: { flowId: string; focusNode?: string }) {
  const t = useT();
  const rf = useReactFlow<StepNode, Edge>();
  const { theme } = useSession();
  const canvasRef = useRef<HTMLDivElement>(null);
  const [flow, setFlow] = useState<FlowDetail>();
  const [name, setName] = useState('');
  const [nodes, setNodes, onNodesChangeBase] = useNodesState<StepNode>([]);
  const [edges, setEdges, onEdgesChangeBase] = useEdgesState<Edge>([]);
  const [dirty, setDirty] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [serverIssues, setServerIssues] = useState<GraphIssues | null>(null);
  const [busy, setBusy] = useState(false);
  const [dialog, setDialog] = useState<'import' | 'export' | null>(null);
  const [testing, setTesting] = useState(false);
  const versions = useLoad(() => api.versions(flowId), [flowId]);

  const graph = useMemo(() => fromCanvas(nodes, edges), [nodes, edges]);
  const clientIssues = useMemo(() => checkGraph(graph), [graph]);
  const issues = useMemo(() => mergeIssues(clientIssues, serverIssues), [clientIssues, serverIssues]);
  const selected = nodes.find((n) => n.selected);

  const edited = useCallback(() => {
    setDirty(true);
    setServerIssues(null);
    setNotice(null);
  }, []);

  /** Shows a graph from the API (after load, save or import), keeping the selection where the node still exists. */
  const show = useCallback(
    (g: Graph, select?: string) => {
      const canvas = toCanvas(g);
      setNodes(canvas.nodes.map((n) => ({ ...n, selected: n.id === select })));
      setEdges(canvas.edges);
      setDirty(false);
      setServerIssues(null);
    },
    [setNodes, setEdges],
  );

  useEffect(() => {
    api
      .flow(flowId)
      .then((f) => {
        setFlow(f);
        setName(f.name);
        show(f.graph, focusNode);
        window.setTimeout(() => {
          const focus = focusNode ? f.graph.nodes.find((n) => n.id === focusNode) : undefined;
          if (focus) void rf.setCenter(focus.position.x + 110, focus.position.y + 40, { zoom: 1.2, duration: 300 });
          else void rf.fitView({ padding: 0.3, maxZoom: 1.2 });
        }, 60);
      })
      .catch((err) => setError(errorText(err)));
  }, [flowId, focusNode, rf, show]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const onNodesChange = useCallback(
    (changes: NodeChange<StepNode>[]) => {
      if (changes.some((c) => c.type === 'remove' || c.type === 'add' || (c.type === 'position' && c.dragging === false))) edited();
      onNodesChangeBase(changes);
    },
    [onNodesChangeBase, edited],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      if (changes.some((c) => c.type === 'remove' || c.type === 'add')) edited();
      onEdgesChangeBase(changes);
    },
    [onEdgesChangeBase, edited],
  );
  const onConnect = useCallback(
    (c: Connection) => {
      setEdges((es) => connectExit(es, c.source, c.sourceHandle ?? 'next', c.target));
      edited();
    },
    [setEdges, edited],
  );

  function addNode(type: NodeType) {
    // Beside the selected node (the usual next step), else in the middle of what is in view.
    const rect = canvasRef.current?.getBoundingClientRect();
    const center = rect ? rf.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 3 }) : { x: 0, y: 0 };
    const position = selected ? { x: selected.position.x + 300, y: selected.position.y } : { x: center.x - 110 + (nodes.length % 6) * 24, y: center.y + (nodes.length % 6) * 24 };
    const id = newNodeId(type, new Set(nodes.map((n) => n.id)));
    const node: StepNode = {
      id,
      type: 'step',
      position: { x: Math.round(position.x), y: Math.round(position.y) },
      data: { type, data: nodeSpecs[type].defaults() },
      selected: true,
    };
    setNodes((ns) => [...ns.map((n) => ({ ...n, selected: false })), node]);
    edited();
    // When the new node landed outside the view, bring it and the node it follows into view (never zooming in).
    const corner = rf.flowToScreenPosition({ x: node.position.x + 230, y: node.position.y + 110 });
    const origin = rf.flowToScreenPosition(node.position);
    if (rect && (origin.x < rect.left || origin.y < rect.top || corner.x > rect.right || corner.y > rect.bottom)) {
      const zoom = rf.getZoom();
      const pair = [{ id }, ...(selected ? [{ id: selected.id }] : [])];
      window.setTimeout(() => void rf.fitView({ nodes: pair, padding: 0.4, maxZoom: zoom, minZoom: Math.min(zoom, 0.5), duration: 200 }), 50);
    }
  }

  function changeData(id: string, data: Record<string, unknown>) {
    const next = nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, data } } : n));
    setNodes(next);
    setEdges((es) => pruneEdges(next, es));
    edited();
  }

  function rename(oldId: string, newId: string) {
    setNodes((ns) => ns.map((n) => (n.id === oldId ? { ...n, id: newId } : n)));
    setEdges((es) =>
      es.map((e) => {
        if (e.source !== oldId && e.target !== oldId) return e;
        const source = e.source === oldId ? newId : e.source;
        const target = e.target === oldId ? newId : e.target;
        return { ...e, source, target, id: edgeId(source, e.sourceHandle ?? 'next', target) };
      }),
    );
    edited();
  }

  function remove(id: string) {
    setNodes((ns) => ns.filter((n) => n.id !== id));
    setEdges((es) => es.filter((e) => e.source !== id && e.target !== id));
    edited();
  }

  function failed(err: unknown) {
    const message = errorText(err);
    setError(message);
    if (err instanceof ApiError && err.status === 400) setServerIssues(issuesFromApiError(message));
  }

  async function save(): Promise<boolean> {
    setNotice(null);
    if (!name.trim()) return setError(`${t('flows.name')}: ${t('common.required')}`), false;
    if (clientIssues.count) return setError(t('editor.problems', { count: clientIssues.count })), false;
    setBusy(true);
    setError(null);
    try {
      const saved = await api.updateFlow(flowId, { name: name.trim(), graph });
      setFlow(saved);
      show(saved.graph, selected?.id);
      setNotice(t('editor.saved'));
      return true;
    } catch (err) {
      failed(err);
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function publish() {
    if (dirty && !(await save())) return;
    setBusy(true);
    setError(null);
    try {
      const published = await api.publish(flowId);
      setFlow((f) => (f ? { ...f, latestVersion: published.version } : f));
      setNotice(t('editor.published', { version: published.version }));
      await versions.reload();
    } catch (err) {
      failed(err);
    } finally {
      setBusy(false);
    }
  }

  async function setStatus(status: 'active' | 'inactive') {
    setBusy(true);
    setError(null);
    try {
      const updated = await api.updateFlow(flowId, { status });
      setFlow((f) => (f ? { ...f, status: updated.status, latestVersion: updated.latestVersion, drawflowData: dirty ? f.drawflowData : updated.drawflowData } : f));
      setNotice(status === 'active' ? t('editor.activated') : null);
    } catch (err) {
      failed(err);
    } finally {
      setBusy(false);
    }
  }

  async function importDrawflow(doc: unknown) {
    const updated = await api.updateFlow(flowId, { drawflowData: doc });
    setFlow(updated);
    show(updated.graph);
    setNotice(t('editor.saved'));
    window.setTimeout(() => void rf.fitView({ padding: 0.3, maxZoom: 1.2 }), 60);
  }

  if (!flow) {
    return (
      <div className="page">
        <ErrorBanner error={error} />
        {!error && <p className="muted">{t('common.loading')}</p>}
      </div>
    );
  }

  return (
    <IssuesContext.Provider value={issues}>
      <div className="editor">
        <div className="toolbar">
          <Link to="/flows" className="muted">
            ← {t('editor.backToFlows')}
          </Link>
          <input className="flow-name" aria-label={t('flows.name')} dir="auto" value={name} onChange={(e) => (setName(e.target.value), edited())} />
          <span className={`badge badge-${flow.status}`} data-testid="flow-status">
            {t(`status.${flow.status}`)}
          </span>
          {flow.latestVersion && <span className="muted">v{flow.latestVersion}</span>}
          {dirty && <span className="unsaved">● {t('editor.unsaved')}</span>}
          <span className="spacer" />
          <button type="button" onClick={() => void save()} disabled={busy}>
            {t('editor.save')}
          </button>
          <button type="button" onClick={() => void publish()} disabled={busy}>
            {t('editor.publish')}
          </button>
          {flow.status === 'active' ? (
            <button type="button" onClick={() => void setStatus('inactive')} disabled={busy}>
              {t('editor.deactivate')}
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => void setStatus('active')} disabled={busy}>
              {t('editor.activate')}
            </button>
          )}
          <button type="button" className={testing ? 'active' : undefined} aria-pressed={testing} onClick={() => setTesting((v) => !v)}>
            {t('test.toggle')}
          </button>
          <button type="button" onClick={() => setDialog('export')}>
            {t('editor.export')}
          </button>
          <button type="button" onClick={() => setDialog('import')}>
            {t('editor.import')}
          </button>
        </div>
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        <Notice text={notice} onDismiss={() => setNotice(null)} />
        {issues.count > 0 && !error && (
          <div className="banner banner-warn" data-testid="issues">
            {t('editor.problems', { count: issues.count })}
            {issues.general.map((g, i) => (
              <div key={i} dir="auto">
                {g}
              </div>
            ))}
          </div>
        )}
        <div className="editor-body">
          <Palette onAdd={addNode} />
          <div className="canvas" ref={canvasRef} dir="ltr">
            <ReactFlow<StepNode, Edge>
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypesMap}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              isValidConnection={(c) => c.source !== c.target && !isTriggerType(nodes.find((n) => n.id === c.target)?.data.type ?? '')}
              defaultEdgeOptions={{ type: 'smoothstep' }}
              deleteKeyCode={['Delete', 'Backspace']}
              proOptions={{ hideAttribution: true }}
              colorMode={theme}
              minZoom={0.2}
            >
              <Background gap={16} />
              <Controls showInteractive={false} />
              <MiniMap pannable zoomable style={{ width: 150, height: 100 }} />
            </ReactFlow>
          </div>
          <aside className="side">
            {testing ? (
              <TestPanel flow={flow} dirty={dirty} />
            ) : selected ? (
              <NodePanel
                key={selected.id}
                node={selected}
                nodes={nodes}
                edges={edges}
                issues={issues.byNode.get(selected.id) ?? []}
                onData={(d) => changeData(selected.id, d)}
                onRename={(id) => rename(selected.id, id)}
                onConnect={(h, target) => (setEdges((es) => connectExit(es, selected.id, h, target)), edited())}
                onDelete={() => remove(selected.id)}
              />
            ) : (
              <p className="muted panel-body">{t('editor.selectNode')}</p>
            )}
            {!testing && <VersionsPanel versions={versions.data} error={versions.error} />}
          </aside>
        </div>
        {dialog && (
          <DrawflowDialog
            mode={dialog}
            exported={flow.drawflowData}
            fileName={`${flow.name.replace(/[^\w-]+/g, '_') || 'flow'}.drawflow.json`}
            onImport={importDrawflow}
            onClose={() => setDialog(null)}
          />
        )}
      </div>
    </IssuesContext.Provider>
  );
}
