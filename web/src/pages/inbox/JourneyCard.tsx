import type { ConversationDetail } from '../../api';
import { useT } from '../../i18n';
import { Link } from '../../router';

/** Where the conversation's journey stands, as the workflow reports it, with links to the node and to Temporal Web. */
export function JourneyCard({ conversation: c }: { conversation: ConversationDetail }) {
  const t = useT();
  const j = c.journey;
  const node = j?.currentNode ?? c.currentNode;
  const flowId = j?.flowId ?? c.flowId;
  return (
    <aside className="journey card" data-testid="journey">
      <h3>{t('inbox.journey')}</h3>
      {c.journeyError && <div className="field-error">{c.journeyError}</div>}
      {!j && !c.journeyError && <p className="muted">{t('inbox.noJourney')}</p>}
      <dl>
        <dt>{t('inbox.currentNode')}</dt>
        <dd className="mono" data-testid="current-node">
          {node ?? '—'}
        </dd>
        {j && (
          <>
            <dt>{t('inbox.status')}</dt>
            <dd>
              {j.status}
              {j.waitingFor ? ` · waiting for ${j.waitingFor}` : ''}
              {j.paused ? ' · paused (agent)' : ''}
            </dd>
            {j.version !== undefined && (
              <>
                <dt>{t('inbox.version')}</dt>
                <dd>v{j.version}</dd>
              </>
            )}
            {j.lastError && (
              <>
                <dt>{t('inbox.lastError')}</dt>
                <dd className="field-error">{j.lastError}</dd>
              </>
            )}
          </>
        )}
      </dl>
      {flowId && node && <Link to={`/flows/${flowId}?node=${encodeURIComponent(node)}`}>{t('inbox.openNode')} →</Link>}
      <a href={c.temporalUrl} target="_blank" rel="noreferrer noopener" data-testid="temporal-link">
        {t('inbox.temporal')} ↗
      </a>
      {j && Object.keys(j.variables).length > 0 && (
        <details>
          <summary>{t('inbox.variables')}</summary>
          <dl className="vars">
            {Object.entries(j.variables).map(([k, v]) => (
              <div key={k}>
                <dt className="mono">{k}</dt>
                <dd dir="auto">{v}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </aside>
  );
}
