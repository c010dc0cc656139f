import type { Edge } from '@xyflow/react';
import { useEffect, useState } from 'react';
import { Field } from '../../components/Field';
import { useT } from '../../i18n';
import { exitLabel, exitsOf, nodeSpecs, type Issue, type NodeType } from './catalogue';
import type { StepNode } from './graph';
import { NodeFields } from './NodeFields';

const idPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The side panel: the selected node's id, fields and exits, with the schema's message beside each field. */
export function NodePanel({
  node,
  nodes,
  edges,
  issues,
  onData,
  onRename,
  onConnect,
  onDelete,
}: {
  node: StepNode;
  nodes: StepNode[];
  edges: Edge[];
  issues: Issue[];
  onData: (data: Record<string, unknown>) => void;
  onRename: (newId: string) => void;
  onConnect: (handle: string, target: string | null) => void;
  onDelete: () => void;
}) {
  const t = useT();
  const spec = nodeSpecs[node.data.type as NodeType];
  const exits = exitsOf(node.data.type, node.data.data);
  const shownFields = new Set(spec?.fields.filter((f) => !f.showIf || f.showIf(node.data.data)).map((f) => `data.${f.key}`) ?? []);
  // Problems that belong to no visible field are listed at the top, so none is hidden.
  const loose = issues.filter((i) => i.field !== 'exits' && i.field !== 'id' && ![...shownFields].some((f) => i.field === f || i.field.startsWith(`${f}.`)));

  return (
    <div className="panel-body" data-testid="node-panel">
      <h3>{spec ? t(`node.${node.data.type as NodeType}`) : node.data.type}</h3>
      {loose.map((i, n) => (
        <div key={n} className="field-error" role="alert" dir="auto">
          {i.field ? `${i.field}: ` : ''}
          {i.message}
        </div>
      ))}
      <NodeIdField id={node.id} taken={nodes.map((n) => n.id)} serverError={issues.find((i) => i.field === 'id')?.message} onRename={onRename} />
      {spec && <NodeFields key={node.id} fields={spec.fields} data={node.data.data} issues={issues} onChange={onData} />}
      {exits.length > 0 && (
        <fieldset className="items">
          <legend>{t('editor.exits')}</legend>
          {issues
            .filter((i) => i.field === 'exits')
            .map((i, n) => (
              <small key={n} className="field-error" role="alert">
                {i.message}
              </small>
            ))}
          {exits.map((h) => {
            const current = edges.find((e) => e.source === node.id && (e.sourceHandle ?? 'next') === h)?.target ?? '';
            return (
              <Field key={h} label={`${exitLabel(h)} →`} htmlFor={`exit-${h}`}>
                <select id={`exit-${h}`} value={current} onChange={(e) => onConnect(h, e.target.value || null)}>
                  <option value="">{t('common.none')}</option>
                  {nodes
                    .filter((n) => n.id !== node.id && !n.data.type.startsWith('trigger_'))
                    .map((n) => (
                      <option key={n.id} value={n.id}>
                        {n.id} ({n.data.type in nodeSpecs ? t(`node.${n.data.type as NodeType}`) : n.data.type})
                      </option>
                    ))}
                </select>
              </Field>
            );
          })}
        </fieldset>
      )}
      <button type="button" className="danger" onClick={onDelete}>
        {t('editor.deleteNode')}
      </button>
    </div>
  );
}

/** The id is edited in place and applied when it is valid and free; edges follow the rename. */
function NodeIdField({ id, taken, serverError, onRename }: { id: string; taken: string[]; serverError?: string; onRename: (id: string) => void }) {
  const t = useT();
  const [value, setValue] = useState(id);
  useEffect(() => setValue(id), [id]);
  const error =
    value === id ? serverError : !idPattern.test(value) ? 'may contain letters, digits, _ and - only (1–64)' : taken.includes(value) ? 'another node has this id' : undefined;
  const apply = () => {
    if (value !== id && !error) onRename(value);
  };
  return (
    <Field label={t('editor.nodeId')} error={error} htmlFor="node-id">
      <input id="node-id" className="mono" value={value} onChange={(e) => setValue(e.target.value)} onBlur={apply} onKeyDown={(e) => e.key === 'Enter' && apply()} />
    </Field>
  );
}
