import { useEffect } from 'react';
import { api } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { useLoad } from '../../components/useLoad';
import { useFormat, useT } from '../../i18n';

/** One message's audit trail: what happened to it, in order, every attempt of every round, and the retries asked for. */
export function AuditDialog({ messageId, onClose }: { messageId: string; onClose: () => void }) {
  const t = useT();
  const format = useFormat();
  const audit = useLoad(() => api.deliveryAudit(messageId), [messageId], { pollMs: 3000 });
  const a = audit.data;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label={t('monitor.trailTitle')} onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal card" data-testid="audit">
        <div className="row between">
          <h3>{t('monitor.trailTitle')}</h3>
          <button type="button" onClick={onClose}>
            {t('common.close')}
          </button>
        </div>
        <ErrorBanner error={audit.error} />
        {!a && !audit.error && <p className="muted">{t('common.loading')}</p>}
        {a && (
          <>
            <p>
              <bdi dir="ltr">{a.message.phone}</bdi> · <span className="mono">{a.message.templateName ?? a.message.type}</span> · {t(`tick.${a.message.status}`)}
            </p>
            <ol className="trail" data-testid="trail">
              {a.trail.map((e, i) => (
                <li key={i} data-event={e.event}>
                  <span className="muted small">{format.dateTime(e.at)}</span> <strong>{t(`trail.${e.event as TrailEvent}`)}</strong>
                  {e.round > 0 && <span className="muted"> · {t('monitor.round', { round: e.round })}</span>}
                  {e.detail && (
                    <div className="small" dir="auto">
                      {e.detail}
                    </div>
                  )}
                </li>
              ))}
            </ol>
            {a.attempts.length > 0 && (
              <>
                <h4>{t('monitor.attempts')}</h4>
                <table className="table">
                  <thead>
                    <tr>
                      <th>#</th>
                      <th>{t('bulk.line')}</th>
                      <th>{t('templates.name')}</th>
                      <th>{t('templates.status')}</th>
                      <th>{t('monitor.error')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.attempts.map((x) => (
                      <tr key={`${x.round}-${x.attemptNo}`}>
                        <td>
                          {x.attemptNo}
                          {x.round > 0 && <span className="muted"> · {t('monitor.round', { round: x.round })}</span>}
                        </td>
                        <td className="mono small">
                          {x.channel === 'sms' && <span className="badge">SMS</span>} {x.phoneNumberId}
                        </td>
                        <td className="mono small">{x.templateName ?? '—'}</td>
                        <td>{t(`outcome.${x.outcome}`)}</td>
                        <td className="small" dir="auto">
                          {x.errorCode !== null ? `${x.errorCode} ` : ''}
                          {x.errorTitle}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            )}
          </>
        )}
      </div>
    </div>
  );
}

type TrailEvent = 'queued' | 'attempt' | 'retry_requested' | 'sent' | 'delivered' | 'read' | 'failed' | 'marked_stale';
