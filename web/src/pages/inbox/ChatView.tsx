import { useEffect, useRef, useState } from 'react';
import { api, errorText } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { useLoad } from '../../components/useLoad';
import { useT } from '../../i18n';
import { pollWhile, useLiveReload, useLiveState } from '../../live';
import { conversationsChanged } from './events';
import { JourneyCard } from './JourneyCard';
import { MessageBubble } from './MessageBubble';
import { ReplyBox } from './ReplyBox';
import { WindowState } from './WindowState';

/** One conversation: its messages (pushed by the live feed, else refreshed every 2 s), who holds it, its journey, and the reply box. */
export function ChatView({ conversationId }: { conversationId: string }) {
  const t = useT();
  const live = useLiveState();
  const detail = useLoad(() => api.conversation(conversationId), [conversationId], { pollMs: pollWhile(live, 2000) });
  useLiveReload(detail.reload, (e) => (e.type === 'message' && e.data.conversationId === conversationId) || (e.type === 'conversation' && e.data.id === conversationId));
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  const seen = useRef(0);
  const c = detail.data;

  const count = c?.messages.length ?? 0;
  const lastStatus = c?.messages.at(-1)?.status;
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
    if (seen.current === 0 || (count > seen.current && nearBottom)) el.scrollTop = el.scrollHeight;
    seen.current = count;
  }, [count, lastStatus]);

  async function act(action: 'claim' | 'release' | 'close') {
    setBusy(true);
    setActionError(null);
    try {
      await api.assign(conversationId, action);
      conversationsChanged();
      await detail.reload();
    } catch (err) {
      setActionError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (!c) {
    return (
      <div className="pad">
        <ErrorBanner error={detail.error} />
        {!detail.error && <p className="muted">{t('common.loading')}</p>}
      </div>
    );
  }

  return (
    <div className="chat">
      <header className="chat-head">
        <div>
          <h2>
            <bdi>{c.customerName || c.waPhoneNumber}</bdi>
          </h2>
          <bdi className="muted" dir="ltr">
            {c.waPhoneNumber}
          </bdi>{' '}
          <span className={`badge badge-${c.status}`} data-testid="conversation-status">
            {t(`inbox.${c.status}`)}
          </span>
        </div>
        <div className="row">
          {c.status === 'bot' && (
            <button type="button" className="primary" disabled={busy} onClick={() => void act('claim')}>
              {t('inbox.claim')}
            </button>
          )}
          {c.status === 'agent' && (
            <button type="button" disabled={busy} onClick={() => void act('release')}>
              {t('inbox.release')}
            </button>
          )}
          {c.status !== 'closed' && (
            <button type="button" className="danger" disabled={busy} onClick={() => void act('close')}>
              {t('inbox.close')}
            </button>
          )}
        </div>
      </header>
      <ErrorBanner error={actionError ?? detail.error} onDismiss={() => (setActionError(null), detail.setError(null))} />
      <div className="chat-body">
        <div className="messages" ref={scroller} data-testid="messages">
          {c.messagesTotal > c.messages.length && <p className="muted small center">{t('inbox.earlier', { count: c.messagesTotal - c.messages.length })}</p>}
          {c.messages.map((m) => (
            <MessageBubble key={m.id} m={m} />
          ))}
        </div>
        <JourneyCard conversation={c} />
      </div>
      <WindowState open={c.windowOpen} lastCustomerMessageAt={c.lastCustomerMessageAt} />
      {c.status === 'bot' && <p className="muted small pad-x">{t('inbox.claimFirst')}</p>}
      {c.status !== 'closed' && <ReplyBox conversationId={c.id} windowOpen={c.windowOpen} onSent={() => (conversationsChanged(), void detail.reload())} />}
    </div>
  );
}
