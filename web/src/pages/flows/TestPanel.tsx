import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, errorText, type ChatMessage, type FlowDetail, type SimulatedCustomerMessage } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { LiveBadge } from '../../components/LiveBadge';
import { useLoad } from '../../components/useLoad';
import { ltr, useT } from '../../i18n';
import { pollWhile, useLiveReload, useLiveState } from '../../live';
import { Link } from '../../router';
import { MessageBubble } from '../inbox/MessageBubble';
import { normalisedPhone } from '../campaigns/recipients';

const randomTestPhone = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

/** What a customer can tap in the bot's last message: its reply buttons or list rows. */
function choicesOf(m: ChatMessage | undefined): Array<{ kind: 'buttonReply' | 'listReply'; id: string; title: string }> {
  if (!m || m.direction !== 'out') return [];
  const p = m.payload as { buttons?: Array<{ id: string; title: string }>; sections?: Array<{ rows?: Array<{ id: string; title: string }> }> };
  if (Array.isArray(p.buttons)) return p.buttons.map((b) => ({ kind: 'buttonReply', id: b.id, title: b.title }));
  if (Array.isArray(p.sections)) return p.sections.flatMap((s) => s.rows ?? []).map((r) => ({ kind: 'listReply', id: r.id, title: r.title }));
  return [];
}

/**
 * Runs the flow against the WhatsApp simulator, through the public API only: the panel starts the flow for a
 * test customer (their keyword through the simulator for an inbound trigger, the trigger endpoint otherwise),
 * plays the customer's replies with POST /api/simulator/inbound, and shows the conversation as FlowBot stored
 * it, bot messages with their delivery ticks, pushed by the live feed. It runs the newest published version.
 */
export function TestPanel({ flow, dirty }: { flow: FlowDetail; dirty: boolean }) {
  const t = useT();
  const simulator = useLoad(() => api.simulator(), []);
  const lines = useLoad(() => api.lines(), []);
  const [phone, setPhone] = useState(() => localStorage.getItem('flowbot.testPhone') ?? randomTestPhone());
  const [phoneError, setPhoneError] = useState<string>();
  const [lineId, setLineId] = useState(flow.whatsappLineId ?? '');
  const [text, setText] = useState('');
  const [textError, setTextError] = useState<string>();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);

  const allLines = lines.data?.lines ?? [];
  const line = allLines.find((l) => l.id === lineId) ?? allLines.find((l) => l.isPrimary) ?? allLines[0];
  const contact = normalisedPhone(phone);
  const trigger = flow.graph.nodes.find((n) => n.type.startsWith('trigger_'));
  const keywords = (trigger?.data.keywords as string[] | undefined) ?? [];

  useEffect(() => localStorage.setItem('flowbot.testPhone', phone), [phone]);

  const live = useLiveState();
  const conversation = useLoad(
    async () => {
      if (!line || !contact) return null;
      const found = await api.conversations({ search: contact.slice(1), lineId: line.id, limit: 5 });
      const c = found.conversations.find((x) => x.waPhoneNumber === contact);
      return c ? api.conversation(c.id) : null;
    },
    [line?.id, contact],
    { pollMs: pollWhile(live, 2000) },
  );
  const current = conversation.data;
  // Before the first message there is no conversation to watch: any new one may be the test customer's.
  useLiveReload(conversation.reload, (e) =>
    current ? (e.type === 'message' && e.data.conversationId === current.id) || (e.type === 'conversation' && e.data.id === current.id) : e.type === 'conversation',
  );

  const count = current?.messages.length ?? 0;
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = scroller.current.scrollHeight;
  }, [count]);

  async function act(work: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      await conversation.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  function checkPhone(): boolean {
    setPhoneError(contact ? undefined : t('test.phoneRule'));
    return Boolean(contact);
  }

  const customer = (message: SimulatedCustomerMessage) => api.simulateCustomer({ phoneNumberId: line!.phoneNumberId, from: contact!, name: t('test.customerName'), ...message });

  function start() {
    if (!checkPhone() || !line) return;
    void act(async () => {
      if (!trigger || trigger.type === 'trigger_inbound') return customer({ text: keywords[0] ?? 'hi' });
      if (trigger.type === 'trigger_outbound') return api.triggerOutbound({ phone: contact!, flowId: flow.id, data: { phoneNumberId: line.phoneNumberId } });
      return api.triggerApi(flow.id, { [(trigger.data.phoneField as string | undefined) ?? 'phone']: contact! });
    });
  }

  function say(e: FormEvent) {
    e.preventDefault();
    const body = text.trim();
    setTextError(body ? undefined : t('common.required'));
    if (!body || !checkPhone() || !line) return;
    void act(async () => {
      await customer({ text: body });
      setText('');
    });
  }

  const choices = choicesOf(current?.messages.at(-1));
  const unavailable = simulator.data && !simulator.data.available;
  const notRunnable = flow.status !== 'active' || !flow.latestVersion;

  return (
    <div className="test-panel" data-testid="test-panel">
      <div className="row between">
        <h3>{t('test.title')}</h3>
        <LiveBadge state={live} />
      </div>
      <p className="muted small">{t('test.help', { version: flow.latestVersion ?? '—' })}</p>
      <ErrorBanner error={error ?? simulator.error ?? lines.error ?? conversation.error} onDismiss={() => (setError(null), conversation.setError(null))} />
      {unavailable && (
        <div className="banner banner-warn" data-testid="simulator-unavailable">
          {t('test.unavailable')} <span dir="auto">{simulator.data?.reason}</span>
        </div>
      )}
      {notRunnable && <div className="banner banner-warn">{t('test.notActive')}</div>}
      {dirty && <div className="banner banner-warn">{t('test.unsaved')}</div>}
      {lines.data && allLines.length === 0 && (
        <div className="banner banner-warn">
          {t('test.noLine')} <Link to="/settings">{t('nav.settings')} →</Link>
        </div>
      )}
      <Field label={t('test.phone')} error={phoneError} htmlFor="test-phone">
        <div className="row nowrap">
          <input id="test-phone" dir="ltr" value={phone} onChange={(e) => setPhone(e.target.value)} />
          <button type="button" onClick={() => setPhone(randomTestPhone())} title={t('test.newCustomer')}>
            ↻
          </button>
        </div>
      </Field>
      {allLines.length > 1 && (
        <Field label={t('bulk.line')} htmlFor="test-line">
          <select id="test-line" value={line?.id ?? ''} onChange={(e) => setLineId(e.target.value)}>
            {allLines.map((l) => (
              <option key={l.id} value={l.id}>
                {ltr(l.displayPhoneNumber || l.phoneNumberId)}
              </option>
            ))}
          </select>
        </Field>
      )}
      <button type="button" className="primary" onClick={start} disabled={busy || !line || Boolean(unavailable)} data-testid="test-start">
        {trigger?.type === 'trigger_inbound' || !trigger ? t('test.startInbound', { keyword: keywords[0] ?? 'hi' }) : t('test.startTrigger')}
      </button>
      <div className="test-chat messages" ref={scroller} data-testid="test-chat">
        {!current && <p className="muted small center">{t('test.empty')}</p>}
        {current?.messages.map((m) => (
          <MessageBubble key={m.id} m={m} />
        ))}
      </div>
      {current?.journey?.currentNode && (
        <p className="muted small">
          {t('inbox.currentNode')}: <span className="mono">{current.journey.currentNode}</span>
          {current.journey.waitingFor ? ` · ${current.journey.waitingFor}` : ''}
        </p>
      )}
      {choices.length > 0 && (
        <div className="row choices">
          {choices.map((c) => (
            <button
              key={`${c.kind}:${c.id}`}
              type="button"
              disabled={busy || Boolean(unavailable)}
              onClick={() => void act(() => customer(c.kind === 'buttonReply' ? { buttonReply: { id: c.id, title: c.title } } : { listReply: { id: c.id, title: c.title } }))}
            >
              {c.title}
            </button>
          ))}
        </div>
      )}
      <form onSubmit={say} noValidate className="test-say">
        <Field label={t('test.say')} error={textError} htmlFor="test-text">
          <div className="row nowrap">
            <input id="test-text" dir="auto" value={text} onChange={(e) => setText(e.target.value)} />
            <button type="submit" disabled={busy || !line || Boolean(unavailable)}>
              {t('inbox.send')}
            </button>
          </div>
        </Field>
      </form>
      {current && (
        <Link to={`/inbox/${current.id}`} className="small">
          {t('test.openInbox')} →
        </Link>
      )}
    </div>
  );
}
