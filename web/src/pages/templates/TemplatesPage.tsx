import { useEffect, useState } from 'react';
import { api, errorText, type Template, type TemplateStatus } from '../../api';
import { ErrorBanner, Notice } from '../../components/ErrorBanner';
import { useLoad } from '../../components/useLoad';
import { useFormat, useT } from '../../i18n';
import { bodyOf } from './template-text';
import { GroupsSection } from './GroupsSection';
import { TemplateCreate } from './TemplateCreate';
import { TemplateStatusBadge } from './TemplateStatusBadge';

const statuses: TemplateStatus[] = ['APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED'];

/**
 * The tenant's WhatsApp message templates with Meta's review state, a form to submit a new one, a pull from
 * WhatsApp (templates made in Meta's own tools), and the template groups (fallback order). While a template
 * awaits review the list refreshes itself: Meta's status webhook moves it to approved or rejected.
 */
export function TemplatesPage() {
  const t = useT();
  const format = useFormat();
  const templates = useLoad(() => api.templates(), []);
  const lines = useLoad(() => api.lines(), []);
  const [status, setStatus] = useState<TemplateStatus | ''>('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [groupsVersion, setGroupsVersion] = useState(0);

  const pending = templates.data?.some((x) => x.status === 'PENDING') ?? false;
  const { reload } = templates;
  useEffect(() => {
    if (!pending) return;
    const timer = window.setInterval(() => void reload(), 2000);
    return () => window.clearInterval(timer);
  }, [pending, reload]);

  async function sync() {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const result = await api.syncTemplates();
      templates.setData(result.templates);
      setNotice(t('templates.synced', { created: result.created, updated: result.updated, removed: result.removed }));
      if (result.skipped.length) setError(result.skipped.map((s) => `${s.wabaId}: ${s.reason}`).join('\n'));
      setGroupsVersion((v) => v + 1);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove(template: Template) {
    if (!window.confirm(t('templates.deleteConfirm', { name: template.name, language: template.language }))) return;
    setError(null);
    setNotice(null);
    try {
      await api.deleteTemplate(template.id);
      setNotice(t('templates.deleted', { name: template.name }));
      await templates.reload();
      setGroupsVersion((v) => v + 1);
    } catch (err) {
      setError(errorText(err));
    }
  }

  const shown = (templates.data ?? []).filter((x) => !status || x.status === status);
  const lineOfWaba = (wabaId: string) => lines.data?.lines.find((l) => l.wabaId === wabaId);

  return (
    <div className="page wide">
      <div className="row between">
        <h1>{t('templates.title')}</h1>
        <button type="button" onClick={() => void sync()} disabled={busy}>
          {busy ? t('common.loading') : t('templates.sync')}
        </button>
      </div>
      <ErrorBanner error={error ?? templates.error ?? lines.error} onDismiss={() => (setError(null), templates.setError(null), lines.setError(null))} />
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      <div className="row">
        <label htmlFor="template-status-filter">{t('templates.status')}</label>
        <select id="template-status-filter" className="auto" value={status} onChange={(e) => setStatus(e.target.value as TemplateStatus | '')}>
          <option value="">{t('templates.allStatuses')}</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {t(`templateStatus.${s}`)}
            </option>
          ))}
        </select>
        {pending && <span className="muted small">{t('templates.awaitingReview')}</span>}
      </div>
      {templates.loading && <p className="muted">{t('common.loading')}</p>}
      {templates.data && shown.length === 0 && <p className="muted">{t('templates.empty')}</p>}
      {shown.length > 0 && (
        <table className="table" data-testid="templates">
          <thead>
            <tr>
              <th>{t('templates.name')}</th>
              <th>{t('templates.language')}</th>
              <th>{t('templates.category')}</th>
              <th>{t('templates.status')}</th>
              <th>{t('templates.body')}</th>
              <th>{t('templates.line')}</th>
              <th>{t('flows.updated')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((x) => (
              <tr key={x.id} data-testid="template-row" data-name={x.name}>
                <td className="mono">{x.name}</td>
                <td className="mono">{x.language}</td>
                <td>{t(`templateCategory.${x.category}`)}</td>
                <td>
                  <TemplateStatusBadge status={x.status} />
                  {x.rejectedReason && (
                    <div className="field-error" dir="auto">
                      {x.rejectedReason}
                    </div>
                  )}
                </td>
                <td className="preview" dir="auto">
                  {bodyOf(x)}
                </td>
                <td className="mono small">
                  <bdi dir="ltr">{lineOfWaba(x.wabaId)?.displayPhoneNumber || x.wabaId}</bdi>
                </td>
                <td className="muted small">{format.dateTime(x.updatedAt)}</td>
                <td>
                  <button type="button" className="danger" onClick={() => void remove(x)} aria-label={`${t('common.delete')} ${x.name}`}>
                    {t('common.delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <TemplateCreate
        lines={lines.data?.lines}
        onCreated={(created) => {
          setNotice(t('templates.submitted', { name: created.name, status: t(`templateStatus.${created.status}`) }));
          void templates.reload();
        }}
      />
      <GroupsSection key={groupsVersion} templates={templates.data ?? []} lines={lines.data?.lines ?? []} />
    </div>
  );
}
