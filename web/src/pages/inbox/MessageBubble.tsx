import type { ChatMessage } from '../../api';
import { useFormat, useT } from '../../i18n';

/** One message; outbound ones carry WhatsApp's delivery ticks, and a failure says why. */
export function MessageBubble({ m }: { m: ChatMessage }) {
  const t = useT();
  const time = useFormat().time(m.createdAt);
  return (
    <div className={`bubble bubble-${m.direction}${m.status === 'failed' ? ' bubble-failed' : ''}`} data-testid="message" data-status={m.status}>
      <Content m={m} />
      <div className="bubble-meta">
        {m.direction === 'out' && m.sentBy && <span className="muted">{m.sentBy === 'bot' ? `${t('inbox.bot')}${m.journeyNode ? ` · ${m.journeyNode}` : ''}` : t('inbox.agent')}</span>}
        <span>{time}</span>
        {m.direction === 'out' && <Ticks m={m} />}
      </div>
      {m.status === 'failed' && (
        <div className="bubble-error" role="note" dir="auto">
          {t('tick.failed')}: {m.errorTitle ?? 'unknown reason'}
          {m.errorCode !== null ? ` (${m.errorCode})` : ''}
        </div>
      )}
    </div>
  );
}

function Ticks({ m }: { m: ChatMessage }) {
  const t = useT();
  const format = useFormat();
  const label = t(`tick.${m.status}`);
  const when = m.readAt ?? m.deliveredAt ?? m.sentAt ?? m.failedAt;
  const title = when ? `${label} ${format.dateTime(when)}` : label;
  // Plain glyphs that every font has: no emoji, which some systems draw as empty boxes.
  const glyph = { queued: '○', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!', received: '' }[m.status];
  return (
    <span className={`ticks ticks-${m.status}`} title={title} aria-label={label} data-testid="ticks">
      {glyph}
    </span>
  );
}

function Content({ m }: { m: ChatMessage }) {
  const p = m.payload as Record<string, unknown>;
  const link = typeof p.link === 'string' ? p.link : undefined;
  if (link) {
    return (
      <div dir="auto">
        <span className="muted">[{m.type}]</span>{' '}
        <a href={link} target="_blank" rel="noreferrer noopener">
          {typeof p.filename === 'string' ? p.filename : link}
        </a>
        {typeof p.caption === 'string' && <div>{p.caption}</div>}
      </div>
    );
  }
  if (m.type === 'template') {
    const params = Array.isArray(p.params) ? (p.params as string[]) : [];
    return (
      <div dir="auto">
        <span className="muted">[template]</span> <strong>{String(p.name ?? m.text ?? '')}</strong>
        {params.length > 0 && <span className="muted"> ({params.join(', ')})</span>}
      </div>
    );
  }
  const buttons = Array.isArray(p.buttons) ? (p.buttons as Array<{ title: string }>) : [];
  return (
    <div dir="auto" className="bubble-text">
      {m.text ?? `[${m.type}]`}
      {buttons.length > 0 && (
        <div className="bubble-buttons">
          {buttons.map((b, i) => (
            <span key={i}>{b.title}</span>
          ))}
        </div>
      )}
    </div>
  );
}
