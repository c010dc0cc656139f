import { api } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { useLoad } from '../../components/useLoad';
import { useFormat, useT } from '../../i18n';
import { useLiveReload } from '../../live';
import { Link } from '../../router';
import { CampaignStatusBadge, ProgressBar } from './CampaignPage';

/** The tenant's bulk sends, newest first, each with its progress; refreshed while any of them runs. */
export function CampaignsPage() {
  const t = useT();
  const format = useFormat();
  const list = useLoad(() => api.campaigns({ limit: 100 }), [], { pollMs: 5000 });
  useLiveReload(list.reload, (e) => e.type === 'message' && e.data.campaignId !== null, 2000);
  const campaigns = list.data?.campaigns;

  return (
    <div className="page wide">
      <div className="row between">
        <h1>{t('campaigns.title')}</h1>
        <Link to="/campaigns/new" className="button primary-link">
          {t('campaigns.new')}
        </Link>
      </div>
      <ErrorBanner error={list.error} onDismiss={() => list.setError(null)} />
      {list.loading && <p className="muted">{t('common.loading')}</p>}
      {campaigns && campaigns.length === 0 && <p className="muted">{t('campaigns.empty')}</p>}
      {campaigns && campaigns.length > 0 && (
        <table className="table" data-testid="campaigns">
          <thead>
            <tr>
              <th>{t('bulk.name')}</th>
              <th>{t('templates.status')}</th>
              <th>{t('campaign.progress')}</th>
              <th>{t('campaign.recipients')}</th>
              <th>{t('campaign.created')}</th>
            </tr>
          </thead>
          <tbody>
            {campaigns.map((c) => (
              <tr key={c.id} data-testid="campaign-row">
                <td>
                  <Link to={`/campaigns/${c.id}`} dir="auto">
                    {c.name}
                  </Link>
                </td>
                <td>
                  <CampaignStatusBadge campaign={c} />
                </td>
                <td className="progress-cell">
                  <ProgressBar progress={c.progress} />
                  <span className="muted small">
                    {t('campaign.summary', { delivered: c.progress.delivered + c.progress.read, failed: c.progress.failed, total: c.progress.total })}
                  </span>
                </td>
                <td>{c.recipientCount}</td>
                <td className="muted small">{format.dateTime(c.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
