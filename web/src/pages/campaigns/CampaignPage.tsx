import { useState } from 'react';
import { api, errorText, type Campaign, type CampaignProgress, type Template, type TemplateGroup } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { LiveBadge } from '../../components/LiveBadge';
import { useLoad } from '../../components/useLoad';
import { useFormat, useT } from '../../i18n';
import { useLiveReload } from '../../live';
import { Link } from '../../router';

/** Where each recipient stands, in the order a message goes; skipped and failed end it early. */
const segments = ['read', 'delivered', 'sent', 'queued', 'failed', 'skipped'] as const;

const active = (c: Campaign) => c.status === 'running' || c.status === 'paused';

/** The template (or group) a campaign sends, by name: the campaign holds only its id when it was chosen by id. */
function messageName(c: Campaign, templates: Template[] | undefined, groups: TemplateGroup[] | undefined): string {
  const m = c.message;
  if (m.name) return `${m.name} (${m.language})`;
  if (m.templateGroupId) return groups?.find((g) => g.id === m.templateGroupId)?.name ?? m.templateGroupId;
  const template = templates?.find((x) => x.id === m.templateId);
  return template ? `${template.name} (${template.language})` : (m.templateId ?? '');
}

export function CampaignStatusBadge({ campaign }: { campaign: Pick<Campaign, 'status'> }) {
  const t = useT();
  return (
    <span className={`badge badge-campaign-${campaign.status}`} data-testid="campaign-status" data-status={campaign.status}>
      {t(`campaignStatus.${campaign.status}`)}
    </span>
  );
}

/** One bar for the whole campaign, a segment per state, each recipient counted once. */
export function ProgressBar({ progress }: { progress: CampaignProgress }) {
  const t = useT();
  const total = Math.max(progress.total, 1);
  return (
    <div className="progress" role="img" aria-label={segments.map((s) => `${t(`progress.${s}`)} ${progress[s]}`).join(', ')}>
      {segments.map((s) =>
        progress[s] > 0 ? <span key={s} className={`progress-${s}`} style={{ width: `${(100 * progress[s]) / total}%` }} title={`${t(`progress.${s}`)}: ${progress[s]}`} /> : null,
      )}
    </div>
  );
}

/**
 * A campaign's progress as it happens: delivery ticks arrive through the live feed, and the page also asks
 * every 1.5 s while the campaign runs (recipients skipped by a cancel are no message). Pause, resume, cancel.
 */
export function CampaignPage({ campaignId }: { campaignId: string }) {
  const t = useT();
  const format = useFormat();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [pollMs, setPollMs] = useState<number | undefined>(1500);
  const campaign = useLoad(
    async () => {
      const c = await api.campaign(campaignId);
      setPollMs(active(c) ? 1500 : undefined);
      return c;
    },
    [campaignId],
    { pollMs },
  );
  const live = useLiveReload(campaign.reload, (e) => e.type === 'message' && e.data.campaignId === campaignId, 500);
  const templates = useLoad(() => api.templates(), []);
  const groups = useLoad(() => api.groups(), []);
  const c = campaign.data;

  async function control(action: 'pause' | 'resume' | 'cancel') {
    if (action === 'cancel' && !window.confirm(t('campaign.cancelConfirm'))) return;
    setBusy(true);
    setError(null);
    try {
      const updated = await api.controlCampaign(campaignId, action);
      campaign.setData(updated);
      setPollMs(active(updated) ? 1500 : undefined);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (!c) {
    return (
      <div className="page">
        <ErrorBanner error={campaign.error} />
        {!campaign.error && <p className="muted">{t('common.loading')}</p>}
      </div>
    );
  }
  const p = c.progress;
  const done = p.total - p.queued;
  return (
    <div className="page" data-testid="campaign">
      <Link to="/campaigns" className="muted">
        ← {t('campaigns.title')}
      </Link>
      <div className="row between">
        <h1 dir="auto">{c.name}</h1>
        <div className="row">
          {active(c) && <LiveBadge state={live} />}
          <CampaignStatusBadge campaign={c} />
        </div>
      </div>
      <ErrorBanner error={error ?? campaign.error} onDismiss={() => (setError(null), campaign.setError(null))} />
      {c.statusReason && (
        <div className="banner banner-warn" dir="auto">
          {c.statusReason}
        </div>
      )}
      <section className="card section">
        <div className="row between">
          <strong>{t('campaign.processed', { done, total: p.total })}</strong>
          <div className="row">
            {c.status === 'running' && (
              <button type="button" onClick={() => void control('pause')} disabled={busy}>
                {t('campaign.pause')}
              </button>
            )}
            {c.status === 'paused' && (
              <button type="button" className="primary" onClick={() => void control('resume')} disabled={busy}>
                {t('campaign.resume')}
              </button>
            )}
            {active(c) && (
              <button type="button" className="danger" onClick={() => void control('cancel')} disabled={busy}>
                {t('campaign.cancel')}
              </button>
            )}
          </div>
        </div>
        <ProgressBar progress={p} />
        <dl className="counts">
          {(['queued', 'sent', 'delivered', 'read', 'failed', 'skipped'] as const).map((s) => (
            <div key={s} className={`count-${s}`} data-testid={`count-${s}`} data-value={p[s]}>
              <dt>{t(`progress.${s}`)}</dt>
              <dd>{p[s]}</dd>
            </div>
          ))}
        </dl>
        {p.optedOut > 0 && <p className="muted small">{t('campaign.optedOut', { count: p.optedOut })}</p>}
        <p className="muted small">{t('campaign.countsHelp')}</p>
      </section>
      <section className="card section">
        <dl className="pairs">
          <dt>{t('campaign.message')}</dt>
          <dd>
            <span className="mono">{messageName(c, templates.data, groups.data)}</span>
            {c.message.params.length > 0 && <span dir="auto"> · {c.message.params.join(', ')}</span>}
          </dd>
          <dt>{t('bulk.line')}</dt>
          <dd className="mono">{c.phoneNumberId ?? '—'}</dd>
          <dt>{t('campaign.recipients')}</dt>
          <dd>{c.recipientCount}</dd>
          <dt>{t('campaign.created')}</dt>
          <dd>{format.dateTime(c.createdAt)}</dd>
          {c.finishedAt && (
            <>
              <dt>{t('campaign.finished')}</dt>
              <dd>{format.dateTime(c.finishedAt)}</dd>
            </>
          )}
        </dl>
      </section>
    </div>
  );
}
