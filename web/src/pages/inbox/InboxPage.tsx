import { useT } from '../../i18n';
import { ChatView } from './ChatView';
import { ConversationList } from './ConversationList';

/** The agents' inbox: conversations on the left, the chosen one on the right; both refresh by themselves. */
export function InboxPage({ conversationId }: { conversationId?: string }) {
  const t = useT();
  return (
    <div className="inbox">
      <ConversationList selectedId={conversationId} />
      <section className="chat-pane">{conversationId ? <ChatView key={conversationId} conversationId={conversationId} /> : <p className="center muted">{t('inbox.pick')}</p>}</section>
    </div>
  );
}
