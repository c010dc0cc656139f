import { useEffect, useState } from 'react';
import { Field } from '../../components/Field';
import type { FieldSpec, Issue } from './catalogue';

type Data = Record<string, unknown>;

/** The form of a node's data, built from its field list; each field shows the schema's message for it. */
export function NodeFields({ fields, data, issues, onChange, prefix = 'data' }: { fields: FieldSpec[]; data: Data; issues: Issue[]; onChange: (next: Data) => void; prefix?: string }) {
  return (
    <>
      {fields
        .filter((f) => !f.showIf || f.showIf(data))
        .map((f) => (
          <OneField key={f.key} spec={f} data={data} path={`${prefix}.${f.key}`} issues={issues} onChange={onChange} />
        ))}
    </>
  );
}

function messageFor(issues: Issue[], path: string): string | undefined {
  const own = issues.filter((i) => i.field === path);
  return own.length ? own.map((i) => i.message).join('; ') : undefined;
}

function OneField({ spec, data, path, issues, onChange }: { spec: FieldSpec; data: Data; path: string; issues: Issue[]; onChange: (next: Data) => void }) {
  const value = data[spec.key];
  const error = messageFor(issues, path);
  const inputId = `f-${path}`;
  const set = (v: unknown) => {
    const next = { ...data };
    if (v === undefined || (spec.optional && v === '')) delete next[spec.key];
    else next[spec.key] = v;
    onChange(next);
  };

  switch (spec.kind) {
    case 'text':
      return (
        <Field label={spec.label} error={error} htmlFor={inputId}>
          <input id={inputId} dir="auto" value={typeof value === 'string' ? value : ''} placeholder={spec.placeholder} onChange={(e) => set(e.target.value)} />
        </Field>
      );
    case 'textarea':
      return (
        <Field label={spec.label} error={error} htmlFor={inputId}>
          <textarea id={inputId} dir="auto" rows={4} value={typeof value === 'string' ? value : ''} onChange={(e) => set(e.target.value)} />
        </Field>
      );
    case 'number':
      return (
        <Field label={spec.label} error={error} htmlFor={inputId}>
          <input id={inputId} type="number" value={typeof value === 'number' ? value : ''} onChange={(e) => set(e.target.value === '' ? undefined : Number(e.target.value))} />
        </Field>
      );
    case 'checkbox':
      return (
        <Field label={spec.label} error={error} htmlFor={inputId} inline>
          <input id={inputId} type="checkbox" checked={value === true} onChange={(e) => set(e.target.checked)} />
        </Field>
      );
    case 'select':
      return (
        <Field label={spec.label} error={error} htmlFor={inputId}>
          <select
            id={inputId}
            value={typeof value === 'string' ? value : ''}
            onChange={(e) => (spec.replaces?.[e.target.value] ? onChange({ ...spec.replaces[e.target.value] }) : set(e.target.value))}
          >
            {typeof value !== 'string' && <option value="">—</option>}
            {spec.options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </Field>
      );
    case 'lines':
      return <LinesField label={spec.label} error={error} id={inputId} value={Array.isArray(value) ? (value as string[]) : []} onChange={set} />;
    case 'json':
      return <JsonField label={spec.label} error={error} id={inputId} value={value} onChange={set} />;
    case 'items': {
      const items = Array.isArray(value) ? (value as Data[]) : [];
      const nested = issues.filter((i) => i.field.startsWith(`${path}.`));
      return (
        <fieldset className="items">
          <legend>{spec.label}</legend>
          {error && <small className="field-error" role="alert">{error}</small>}
          {items.map((item, index) => (
            <div className="item-row" key={index}>
              <NodeFields
                fields={spec.item}
                data={item}
                issues={nested}
                prefix={`${path}.${index}`}
                onChange={(next) => set(items.map((it, i) => (i === index ? next : it)))}
              />
              <button type="button" className="link danger" onClick={() => set(items.filter((_, i) => i !== index))} aria-label="remove">
                ✕
              </button>
            </div>
          ))}
          {(spec.max === undefined || items.length < spec.max) && (
            <button type="button" onClick={() => set([...items, spec.newItem(items.length)])}>
              + Add
            </button>
          )}
        </fieldset>
      );
    }
  }
}

/** A list of strings, one per line; blank lines are dropped. */
function LinesField({ label, error, id, value, onChange }: { label: string; error?: string; id: string; value: string[]; onChange: (v: string[]) => void }) {
  const [text, setText] = useState(value.join('\n'));
  useEffect(() => {
    if (text.split('\n').map((s) => s.trim()).filter(Boolean).join('\n') !== value.join('\n')) setText(value.join('\n'));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value.join('\n')]);
  return (
    <Field label={label} error={error} htmlFor={id}>
      <textarea
        id={id}
        dir="auto"
        rows={3}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          onChange(e.target.value.split('\n').map((s) => s.trim()).filter(Boolean));
        }}
      />
    </Field>
  );
}

/** A JSON object; what does not parse stays in the box with a message and is not applied. */
function JsonField({ label, error, id, value, onChange }: { label: string; error?: string; id: string; value: unknown; onChange: (v: unknown) => void }) {
  const shown = value === undefined ? '' : JSON.stringify(value, null, 2);
  const [text, setText] = useState(shown);
  const [parseError, setParseError] = useState<string | undefined>();
  useEffect(() => {
    if (!parseError) setText(shown);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shown]);
  return (
    <Field label={label} error={parseError ?? error} htmlFor={id}>
      <textarea
        id={id}
        className="mono"
        rows={4}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (!e.target.value.trim()) {
            setParseError(undefined);
            return onChange(undefined);
          }
          try {
            const parsed = JSON.parse(e.target.value);
            setParseError(undefined);
            onChange(parsed);
          } catch (err) {
            setParseError(`not valid JSON: ${(err as Error).message}`);
          }
        }}
      />
    </Field>
  );
}
