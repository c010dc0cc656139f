import { useEffect, useState } from 'react';
import { api, type ConversationStatus } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { LiveBadge } from '../../components/LiveBadge';
import { useLoad } from '../../components/useLoad';
import { useFormat, useT } from '../../i18n';
import { pollWhile, useLiveReload, useLiveState } from '../../live';
import { Link } from '../../router';
import { onConversationsChanged } from './events';

const tabs: Array<ConversationStatus | 'all'> = ['all', 'bot', 'agent', 'closed'];

export function ConversationList({ selectedId }: { selectedId?: string }) {
  const t = useT();
  const [status, setStatus] = useState<ConversationStatus | 'all'>('all');
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [mine, setMine] = useState(false);
  const live = useLiveState();
  useEffect(() => {
    const timer = window.setTimeout(() => setQuery(search.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [search]);

  const list = useLoad(
    () => api.conversations({ status: status === 'all' ? undefined : status, search: query || undefined, assignedTo: mine ? 'me' : undefined, limit: 100 }),
    [status, query, mine],
    { pollMs: pollWhile(live) },
  );
  const stats = list.data?.stats;
  const format = useFormat();
  const { reload } = list;
  useEffect(() => onConversationsChanged(() => void reload()), [reload]);
  useLiveReload(reload, (e) => e.type === 'message' || e.type === 'conversation', 500);

  return (
    <aside className="conv-list">
      <div className="tabs" role="tablist">
        {tabs.map((tab) => (
          <button key={tab} type="button" role="tab" aria-selected={status === tab} className={status === tab ? 'active' : undefined} onClick={() => setStatus(tab)} data-testid={`tab-${tab}`}>
            {t(`inbox.${tab}`)} <span className="count">{stats ? (tab === 'all' ? stats.total : stats[tab]) : '…'}</span>
          </button>
        ))}
      </div>
      <div className="conv-filters">
        <input type="search" placeholder={t('inbox.search')} aria-label={t('inbox.search')} value={search} maxLength={100} onChange={(e) => setSearch(e.target.value)} />
        <label className="check">
          <input type="checkbox" checked={mine} onChange={(e) => setMine(e.target.checked)} /> {t('inbox.mine')}
        </label>
      </div>
      <LiveBadge state={live} />
      <ErrorBanner error={list.error} />
      {list.data && list.data.conversations.length === 0 && <p className="muted pad">{t('inbox.empty')}</p>}
      <ul className="conv-items">
        {list.data?.conversations.map((c) => (
          <li key={c.id}>
            <Link to={`/inbox/${c.id}`} className={`conv-item${c.id === selectedId ? ' selected' : ''}`} data-testid="conversation">
              <div className="row between">
                <strong>
                  <bdi>{c.customerName || c.waPhoneNumber}</bdi>
                </strong>
                <span className={`badge badge-${c.status}`}>{t(`inbox.${c.status}`)}</span>
              </div>
              <div className="muted small">
                <bdi dir="ltr">{c.customerName ? c.waPhoneNumber : ''}</bdi>
              </div>
              <div className="row between small">
                <span className="conv-last" dir="auto">
                  {c.lastMessage ?? ''}
                </span>
                <span className="muted">{c.lastMessageAt ? format.time(c.lastMessageAt) : ''}</span>
              </div>
            </Link>
          </li>
        ))}
      </ul>
    </aside>
  );
}
