import { useState, type DragEvent, type FormEvent } from 'react';
import { api, errorText, type Template, type TemplateGroup, type WhatsAppLine } from '../../api';
import { ErrorBanner, Notice } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { useLoad } from '../../components/useLoad';
import { ltr, useT } from '../../i18n';
import { TemplateStatusBadge } from './TemplateStatusBadge';

interface GroupValues {
  name: string;
  templateIds: string[];
  preferredPhoneNumberId: string;
}
type GroupErrors = Partial<Record<'name' | 'templateIds' | 'preferredPhoneNumberId', string>>;

/**
 * Template groups: the order in which a send tries templates when WhatsApp refuses one, and the line to try
 * them on when all fail on the sending line. The order is set by dragging or with the arrows.
 */
export function GroupsSection({ templates, lines }: { templates: Template[]; lines: WhatsAppLine[] }) {
  const t = useT();
  const groups = useLoad(() => api.groups(), []);
  const [notice, setNotice] = useState<string | null>(null);
  const [creating, setCreating] = useState(0);

  return (
    <section className="card section" data-testid="groups">
      <h2>{t('groups.title')}</h2>
      <p className="muted">{t('groups.help')}</p>
      <ErrorBanner error={groups.error} onDismiss={() => groups.setError(null)} />
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      {groups.data && groups.data.length === 0 && <p className="muted">{t('groups.empty')}</p>}
      {groups.data?.map((g) => (
        <GroupEditor
          key={`${g.id}@${g.updatedAt}`}
          group={g}
          templates={templates}
          lines={lines}
          onSave={async (values) => {
            await api.updateGroup(g.id, { name: values.name, templateIds: values.templateIds, preferredPhoneNumberId: values.preferredPhoneNumberId || null });
            setNotice(t('groups.saved', { name: values.name }));
            await groups.reload();
          }}
          onDelete={async () => {
            await api.deleteGroup(g.id);
            setNotice(t('groups.deleted', { name: g.name }));
            await groups.reload();
          }}
        />
      ))}
      <GroupEditor
        key={`new-${creating}`}
        templates={templates}
        lines={lines}
        onSave={async (values) => {
          await api.createGroup({ name: values.name, templateIds: values.templateIds, ...(values.preferredPhoneNumberId ? { preferredPhoneNumberId: values.preferredPhoneNumberId } : {}) });
          setNotice(t('groups.created', { name: values.name }));
          setCreating((n) => n + 1);
          await groups.reload();
        }}
      />
    </section>
  );
}

function GroupEditor(props: {
  group?: TemplateGroup;
  templates: Template[];
  lines: WhatsAppLine[];
  onSave: (values: GroupValues) => Promise<void>;
  onDelete?: () => Promise<void>;
}) {
  const t = useT();
  const { group, templates, lines } = props;
  const [values, setValues] = useState<GroupValues>({
    name: group?.name ?? '',
    templateIds: group?.templateIds ?? [],
    preferredPhoneNumberId: group?.preferredPhoneNumberId ?? '',
  });
  const [adding, setAdding] = useState('');
  const [errors, setErrors] = useState<GroupErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState<number | null>(null);

  const byId = new Map(templates.map((x) => [x.id, x]));
  const members = values.templateIds.map((id) => byId.get(id) ?? group?.templates.find((m) => m.id === id));
  const wabaId = values.templateIds.map((id) => byId.get(id)?.wabaId).find(Boolean) ?? group?.wabaId ?? undefined;
  const candidates = templates.filter((x) => !values.templateIds.includes(x.id) && (!wabaId || x.wabaId === wabaId));
  const lineChoices = lines.filter((l) => !wabaId || l.wabaId === wabaId);
  const prefix = group ? `group-${group.id}` : 'group-new';

  const changed = (next: Partial<GroupValues>) => setValues((v) => ({ ...v, ...next }));
  const move = (from: number, to: number) => {
    if (to < 0 || to >= values.templateIds.length || from === to) return;
    const ids = [...values.templateIds];
    const [id] = ids.splice(from, 1);
    ids.splice(to, 0, id);
    changed({ templateIds: ids });
  };

  function check(): GroupErrors {
    const e: GroupErrors = {};
    if (!values.name.trim()) e.name = t('common.required');
    else if (values.name.trim().length > 200) e.name = t('common.tooLong', { max: 200 });
    if (values.templateIds.length === 0) e.templateIds = t('groups.needTemplate');
    else if (values.templateIds.length > 20) e.templateIds = t('groups.tooMany');
    else if (new Set(values.templateIds.map((id) => byId.get(id)?.wabaId).filter(Boolean)).size > 1) e.templateIds = t('groups.oneWaba');
    const line = lines.find((l) => l.phoneNumberId === values.preferredPhoneNumberId);
    if (values.preferredPhoneNumberId && wabaId && line && line.wabaId !== wabaId) e.preferredPhoneNumberId = t('groups.lineOfWaba');
    return e;
  }

  async function save(ev: FormEvent) {
    ev.preventDefault();
    const found = check();
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setError(null);
    try {
      await props.onSave({ ...values, name: values.name.trim() });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!props.onDelete || !window.confirm(t('groups.deleteConfirm', { name: group?.name ?? '' }))) return;
    setBusy(true);
    setError(null);
    try {
      await props.onDelete();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  const onDrop = (to: number) => (e: DragEvent) => {
    e.preventDefault();
    if (dragging !== null) move(dragging, to);
    setDragging(null);
  };

  return (
    <form className={`group-editor${group ? '' : ' group-new'}`} onSubmit={save} noValidate data-testid={group ? 'group' : 'group-new'} data-name={group?.name}>
      <h3>{group ? group.name : t('groups.new')}</h3>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="grid-2">
        <Field label={t('groups.name')} error={errors.name} htmlFor={`${prefix}-name`}>
          <input id={`${prefix}-name`} dir="auto" value={values.name} onChange={(e) => changed({ name: e.target.value })} />
        </Field>
        <Field label={t('groups.preferredLine')} error={errors.preferredPhoneNumberId} htmlFor={`${prefix}-line`} hint={t('groups.preferredLineHint')}>
          <select id={`${prefix}-line`} value={values.preferredPhoneNumberId} onChange={(e) => changed({ preferredPhoneNumberId: e.target.value })}>
            <option value="">{t('common.none')}</option>
            {lineChoices.map((l) => (
              <option key={l.id} value={l.phoneNumberId}>
                {ltr(l.displayPhoneNumber || l.phoneNumberId)}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div className={`field${errors.templateIds ? ' field-invalid' : ''}`}>
        <label>{t('groups.order')}</label>
        {members.length === 0 && <p className="muted small">{t('groups.noMembers')}</p>}
        <ol className="order-list">
          {members.map((m, i) => (
            <li
              key={values.templateIds[i]}
              draggable
              onDragStart={() => setDragging(i)}
              onDragOver={(e) => e.preventDefault()}
              onDrop={onDrop(i)}
              onDragEnd={() => setDragging(null)}
              className={dragging === i ? 'dragging' : undefined}
              data-testid="group-member"
            >
              <span className="drag-handle" aria-hidden="true">
                ⋮⋮
              </span>
              <span className="order-no">{i + 1}.</span>
              <span className="mono">{m ? `${m.name} (${m.language})` : values.templateIds[i]}</span>
              {m && <TemplateStatusBadge status={m.status} />}
              <span className="spacer" />
              <button type="button" className="link" onClick={() => move(i, i - 1)} disabled={i === 0} aria-label={t('groups.up')} title={t('groups.up')}>
                ↑
              </button>
              <button
                type="button"
                className="link"
                onClick={() => move(i, i + 1)}
                disabled={i === members.length - 1}
                aria-label={t('groups.down')}
                title={t('groups.down')}
              >
                ↓
              </button>
              <button
                type="button"
                className="link"
                onClick={() => changed({ templateIds: values.templateIds.filter((_, j) => j !== i) })}
                aria-label={t('groups.remove')}
                title={t('groups.remove')}
              >
                ×
              </button>
            </li>
          ))}
        </ol>
        {errors.templateIds && (
          <small className="field-error" role="alert">
            {errors.templateIds}
          </small>
        )}
      </div>
      <div className="row">
        <select aria-label={t('groups.addTemplate')} className="auto" value={adding} onChange={(e) => setAdding(e.target.value)}>
          <option value="">{t('groups.addTemplate')}…</option>
          {candidates.map((x) => (
            <option key={x.id} value={x.id}>
              {x.name} ({x.language}) · {t(`templateStatus.${x.status}`)}
            </option>
          ))}
        </select>
        <button
          type="button"
          disabled={!adding}
          onClick={() => {
            changed({ templateIds: [...values.templateIds, adding] });
            setAdding('');
          }}
        >
          {t('groups.add')}
        </button>
        <span className="spacer" />
        {props.onDelete && (
          <button type="button" className="danger" onClick={() => void remove()} disabled={busy}>
            {t('common.delete')}
          </button>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {group ? t('common.save') : t('groups.create')}
        </button>
      </div>
    </form>
  );
}
