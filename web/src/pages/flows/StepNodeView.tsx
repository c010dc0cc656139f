import { Handle, Position, type NodeProps } from '@xyflow/react';
import { createContext, memo, useContext } from 'react';
import { useT } from '../../i18n';
import { exitLabel, exitsOf, isTriggerType, nodeSpecs, type GraphIssues, type NodeType } from './catalogue';
import { TARGET_HANDLE, type StepNode } from './graph';

/** The problems of the current graph, read by each node to mark itself. */
export const IssuesContext = createContext<GraphIssues>({ byNode: new Map(), general: [], count: 0 });

/** A flow node on the canvas: its kind, id, a line of what it does, and one handle per exit. */
export const StepNodeView = memo(function StepNodeView({ id, data, selected }: NodeProps<StepNode>) {
  const t = useT();
  const issues = useContext(IssuesContext).byNode.get(id);
  const spec = nodeSpecs[data.type as NodeType];
  const exits = exitsOf(data.type, data.data);
  const summary = spec?.summary(data.data) ?? '';
  return (
    <div
      className={`step step-${spec?.group ?? 'unknown'}${selected ? ' step-selected' : ''}${issues?.length ? ' step-invalid' : ''}`}
      data-testid={`node-${id}`}
      title={issues?.map((i) => i.message).join('\n')}
    >
      {!isTriggerType(data.type) && <Handle type="target" position={Position.Left} id={TARGET_HANDLE} className="handle-in" />}
      <div className="step-head">
        <span className="step-type">{spec ? t(`node.${data.type as NodeType}`) : data.type}</span>
        <span className="step-id">{id}</span>
      </div>
      {summary && (
        <div className="step-summary" dir="auto">
          {summary.length > 80 ? `${summary.slice(0, 79)}…` : summary}
        </div>
      )}
      {issues?.length ? <div className="step-problem">⚠ {issues[0].message}</div> : null}
      {exits.length > 0 && (
        <div className="step-exits">
          {exits.map((h) => (
            <div className="step-exit" key={h}>
              <span dir="auto">{exitLabel(h)}</span>
              <Handle type="source" position={Position.Right} id={h} className="handle-out" data-exit={h} />
            </div>
          ))}
        </div>
      )}
    </div>
  );
});
