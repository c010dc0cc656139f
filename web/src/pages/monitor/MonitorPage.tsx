import { useState, type FormEvent } from 'react';
import { api, errorText, type MonitoredMessage, type MonitorStatus, type RetryAnswer } from '../../api';
import { ErrorBanner, Notice } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { LiveBadge } from '../../components/LiveBadge';
import { useLoad } from '../../components/useLoad';
import { useFormat, useT, type Translate } from '../../i18n';
import { useLiveReload } from '../../live';
import { Link } from '../../router';
import { AuditDialog } from './AuditDialog';

const statuses: MonitorStatus[] = ['problems', 'failed', 'stale', 'queued', 'sent', 'delivered', 'read', 'all'];
const windows = [1, 24, 24 * 7, 24 * 30];
const PAGE = 50;

interface Filter {
  status: MonitorStatus;
  hours: number;
  campaignId: string;
  staleAfterMinutes: string;
}
type FilterErrors = Partial<Record<'campaignId' | 'staleAfterMinutes', string>>;

function checkFilter(f: Filter, t: Translate): FilterErrors {
  const e: FilterErrors = {};
  if (f.campaignId.trim().length > 200) e.campaignId = t('common.tooLong', { max: 200 });
  const stale = f.staleAfterMinutes.trim();
  if (stale && !(Number(stale) > 0 && Number(stale) <= 525_600)) e.staleAfterMinutes = t('monitor.staleRule');
  return e;
}

/** What a retry request did, in words: how many were queued, and why each refused one was. */
function retrySummary(answer: RetryAnswer, t: Translate): { notice: string; refused: string | null } {
  return {
    notice: t('monitor.retried', { queued: answer.queued, refused: answer.refused.length }),
    refused: answer.refused.length ? answer.refused.map((r) => `${r.messageId.slice(0, 8)}…: ${r.message}`).join('\n') : null,
  };
}

/**
 * The delivery monitor: how the outbound messages of a window stand, the failed and stale ones with WhatsApp's
 * reason, each message's audit trail, and retries (one message, or every failed or stale one of the filter),
 * which go through the same idempotent send path. Changes arrive through the live feed.
 */
export function MonitorPage() {
  const t = useT();
  const format = useFormat();
  const [draft, setDraft] = useState<Filter>({ status: 'problems', hours: 24, campaignId: '', staleAfterMinutes: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const [errors, setErrors] = useState<FilterErrors>({});
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [auditOf, setAuditOf] = useState<string | null>(null);

  const since = () => new Date(Date.now() - filter.hours * 3600_000).toISOString();
  const overview = useLoad(
    () =>
      api.deliveryOverview({
        status: filter.status,
        since: since(),
        campaignId: filter.campaignId.trim() || undefined,
        staleAfterMinutes: filter.staleAfterMinutes.trim() || undefined,
        limit: PAGE,
        offset,
      }),
    [filter, offset],
    { pollMs: 15_000 },
  );
  const live = useLiveReload(overview.reload, (e) => e.type === 'message' && e.data.direction === 'out', 2000);
  const data = overview.data;

  function apply(e: FormEvent) {
    e.preventDefault();
    const found = checkFilter(draft, t);
    setErrors(found);
    if (Object.keys(found).length) return;
    setOffset(0);
    setFilter(draft);
  }

  async function retry(body: Parameters<typeof api.retryDelivery>[0]) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const { notice: text, refused } = retrySummary(await api.retryDelivery(body), t);
      setNotice(text);
      if (refused) setError(refused);
      await overview.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const bulkStatus = filter.status === 'failed' || filter.status === 'stale' ? filter.status : 'problems';
  function retryAll() {
    if (!window.confirm(t('monitor.retryAllConfirm', { which: t(`monitorStatus.${bulkStatus}`) }))) return;
    void retry({ filter: { status: bulkStatus, since: since(), ...(filter.campaignId.trim() ? { campaignId: filter.campaignId.trim() } : {}) }, limit: 100 });
  }

  const s = data?.summary;
  return (
    <div className="page wide">
      <div className="row between">
        <h1>{t('monitor.title')}</h1>
        <div className="row">
          {data && <span className="muted small">{t('monitor.window', { since: format.dateTime(data.window.since) })}</span>}
          <LiveBadge state={live} />
        </div>
      </div>
      <ErrorBanner error={error ?? overview.error} onDismiss={() => (setError(null), overview.setError(null))} />
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      <form className="card section filters" onSubmit={apply} noValidate data-testid="monitor-filter">
        <Field label={t('monitor.show')} htmlFor="monitor-status">
          <select id="monitor-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value as MonitorStatus })}>
            {statuses.map((x) => (
              <option key={x} value={x}>
                {t(`monitorStatus.${x}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('monitor.period')} htmlFor="monitor-hours">
          <select id="monitor-hours" value={draft.hours} onChange={(e) => setDraft({ ...draft, hours: Number(e.target.value) })}>
            {windows.map((h) => (
              <option key={h} value={h}>
                {h < 24 ? t('monitor.lastHour') : t('monitor.lastDays', { days: h / 24 })}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('monitor.campaign')} error={errors.campaignId} htmlFor="monitor-campaign">
          <input id="monitor-campaign" dir="ltr" value={draft.campaignId} onChange={(e) => setDraft({ ...draft, campaignId: e.target.value })} />
        </Field>
        <Field label={t('monitor.staleAfter')} error={errors.staleAfterMinutes} htmlFor="monitor-stale" hint={t('monitor.staleDefault', { minutes: data?.staleAfterMinutes ?? '…' })}>
          <input id="monitor-stale" inputMode="decimal" dir="ltr" value={draft.staleAfterMinutes} onChange={(e) => setDraft({ ...draft, staleAfterMinutes: e.target.value })} />
        </Field>
        <div className="field actions">
          <button type="submit" className="primary">
            {t('monitor.apply')}
          </button>
        </div>
      </form>

      {s && (
        <dl className="counts counts-7" data-testid="monitor-summary">
          {(['total', 'queued', 'sent', 'delivered', 'read', 'failed', 'stale'] as const).map((k) => (
            <div key={k} className={`count-${k}`} data-testid={`summary-${k}`} data-value={s[k]}>
              <dt>{t(`monitor.${k}`)}</dt>
              <dd>{s[k]}</dd>
            </div>
          ))}
        </dl>
      )}
      {s && s.failuresByCode.length > 0 && (
        <section className="card section">
          <h3>{t('monitor.byCode')}</h3>
          <ul className="codes">
            {s.failuresByCode.map((f) => (
              <li key={`${f.errorCode}`}>
                <span className="mono">{f.errorCode ?? '—'}</span> <span dir="auto">{f.errorTitle ?? t('monitor.noReason')}</span> <strong>× {f.count}</strong>
              </li>
            ))}
          </ul>
        </section>
      )}

      <div className="row between">
        <h2>{t('monitor.messages', { count: data?.total ?? 0 })}</h2>
        <button type="button" onClick={retryAll} disabled={busy || !data || data.total === 0}>
          {t('monitor.retryAll', { which: t(`monitorStatus.${bulkStatus}`) })}
        </button>
      </div>
      {overview.loading && <p className="muted">{t('common.loading')}</p>}
      {data && data.messages.length === 0 && <p className="muted">{t('monitor.empty')}</p>}
      {data && data.messages.length > 0 && (
        <table className="table" data-testid="monitor-messages">
          <thead>
            <tr>
              <th>{t('campaign.created')}</th>
              <th>{t('monitor.phone')}</th>
              <th>{t('campaign.message')}</th>
              <th>{t('templates.status')}</th>
              <th>{t('monitor.error')}</th>
              <th>{t('monitor.attempts')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.messages.map((m) => (
              <MessageRow key={m.messageId} m={m} busy={busy} onAudit={() => setAuditOf(m.messageId)} onRetry={() => void retry({ messageId: m.messageId })} />
            ))}
          </tbody>
        </table>
      )}
      {data && data.total > PAGE && (
        <div className="row">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            {t('monitor.newer')}
          </button>
          <span className="muted small">
            {offset + 1}–{Math.min(offset + PAGE, data.total)} / {data.total}
          </span>
          <button type="button" disabled={offset + PAGE >= data.total} onClick={() => setOffset(offset + PAGE)}>
            {t('monitor.older')}
          </button>
        </div>
      )}
      {auditOf && <AuditDialog messageId={auditOf} onClose={() => setAuditOf(null)} />}
    </div>
  );
}

function MessageRow({ m, busy, onAudit, onRetry }: { m: MonitoredMessage; busy: boolean; onAudit: () => void; onRetry: () => void }) {
  const t = useT();
  const format = useFormat();
  return (
    <tr data-testid="monitor-message" data-status={m.status} data-id={m.messageId}>
      <td className="muted small">{format.dateTime(m.createdAt)}</td>
      <td>
        <Link to={`/inbox/${m.conversationId}`}>
          <bdi dir="ltr">{m.phone}</bdi>
        </Link>
      </td>
      <td className="mono small">
        {m.templateName ?? m.type}
        {m.campaignId && (
          <div>
            <Link to={`/campaigns/${m.campaignId}`} className="muted">
              {t('monitor.inCampaign')}
            </Link>
          </div>
        )}
      </td>
      <td>
        <span className={`ticks-label status-${m.status}`}>{t(`tick.${m.status}`)}</span>
        {m.stale && <span className="badge badge-stale">{t(`stale.${m.stale}`)}</span>}
      </td>
      <td className="small" dir="auto">
        {m.errorCode !== null && <span className="mono">{m.errorCode} </span>}
        {m.errorTitle}
      </td>
      <td className="small">
        {m.attempts}
        {m.round > 0 && <span className="muted"> · {t('monitor.round', { round: m.round })}</span>}
      </td>
      <td>
        <div className="row nowrap">
          <button type="button" onClick={onAudit}>
            {t('monitor.trail')}
          </button>
          <button type="button" className="primary" disabled={busy || !m.retry.allowed} title={m.retry.message ?? undefined} onClick={onRetry}>
            {t('monitor.retry')}
          </button>
        </div>
        {!m.retry.allowed && m.retry.message && (
          <div className="muted small" dir="auto">
            {m.retry.message}
          </div>
        )}
      </td>
    </tr>
  );
}
