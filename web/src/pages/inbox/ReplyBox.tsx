import { useState, type FormEvent } from 'react';
import { api, ApiError, errorText, type ReplyBody } from '../../api';
import { ErrorBanner, Notice } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { useT } from '../../i18n';

type Mode = 'text' | 'media' | 'template';
type MediaType = 'image' | 'video' | 'document' | 'audio';
type Errors = Partial<Record<'text' | 'mediaUrl' | 'caption' | 'filename' | 'templateName' | 'templateLanguage' | 'templateParams', string>>;

const newKey = (): string => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

/**
 * The agent's reply: text, a media link or a template. While the 24-hour window is closed only a template can
 * go, so the box switches to it. Each composed message has one idempotency key, kept across retries of the
 * same message, so a retry after a lost answer never sends twice.
 */
export function ReplyBox({ conversationId, windowOpen, onSent }: { conversationId: string; windowOpen: boolean; onSent: () => void }) {
  const t = useT();
  const [mode, setMode] = useState<Mode>(windowOpen ? 'text' : 'template');
  const [text, setText] = useState('');
  const [mediaType, setMediaType] = useState<MediaType>('image');
  const [mediaUrl, setMediaUrl] = useState('');
  const [caption, setCaption] = useState('');
  const [filename, setFilename] = useState('');
  const [templateName, setTemplateName] = useState('');
  const [templateLanguage, setTemplateLanguage] = useState('en');
  const [templateParams, setTemplateParams] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newKey);
  const effective: Mode = windowOpen ? mode : 'template';

  function build(): { body?: ReplyBody; errors: Errors } {
    const e: Errors = {};
    if (effective === 'text') {
      if (!text.trim()) e.text = t('common.required');
      else if (text.length > 4096) e.text = 'must be at most 4096 characters';
      return { errors: e, body: { messageType: 'text', text: text.trim() } };
    }
    if (effective === 'media') {
      let url: URL | undefined;
      try {
        url = new URL(mediaUrl.trim());
      } catch {
        url = undefined;
      }
      if (!url || !/^https?:$/.test(url.protocol)) e.mediaUrl = 'must be an http(s) URL';
      if (caption.length > 1024) e.caption = 'must be at most 1024 characters';
      if (mediaType === 'audio' && caption.trim()) e.caption = 'audio takes no caption';
      return {
        errors: e,
        body: {
          messageType: mediaType,
          mediaUrl: mediaUrl.trim(),
          ...(caption.trim() && mediaType !== 'audio' ? { caption: caption.trim() } : {}),
          ...(filename.trim() && mediaType === 'document' ? { filename: filename.trim() } : {}),
        },
      };
    }
    const params = templateParams.split('\n').map((p) => p.trim()).filter(Boolean);
    if (!templateName.trim()) e.templateName = t('common.required');
    if (!/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$/.test(templateLanguage.trim())) e.templateLanguage = 'a language code such as en, en_US or he';
    return { errors: e, body: { messageType: 'template', templateName: templateName.trim(), templateLanguage: templateLanguage.trim(), templateParams: params } };
  }

  async function send(ev: FormEvent) {
    ev.preventDefault();
    setNotice(null);
    const { body, errors: found } = build();
    setErrors(found);
    if (Object.values(found).some(Boolean) || !body) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api.reply(conversationId, body, key);
      setKey(newKey());
      setText('');
      setMediaUrl('');
      setCaption('');
      setFilename('');
      setTemplateParams('');
      if (res.queued) setNotice(t('inbox.queued'));
      onSent();
    } catch (err) {
      setError(errorText(err));
      // The server answered: whatever it said, the next attempt is a new message. Unanswered: the same one.
      if (!(err instanceof ApiError && err.status === 0)) setKey(newKey());
    } finally {
      setBusy(false);
    }
  }

  const edit = <T,>(setter: (v: T) => void) => (v: T) => {
    setter(v);
    setKey(newKey());
  };

  return (
    <form className="reply" onSubmit={send} noValidate data-testid="reply">
      <div className="tabs small">
        {(['text', 'media', 'template'] as const).map((m) => (
          <button
            key={m}
            type="button"
            className={effective === m ? 'active' : undefined}
            disabled={!windowOpen && m !== 'template'}
            title={!windowOpen && m !== 'template' ? t('inbox.windowClosed') : undefined}
            onClick={() => setMode(m)}
          >
            {t(`inbox.${m}`)}
          </button>
        ))}
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      {effective === 'text' && (
        <Field label={t('inbox.message')} error={errors.text} htmlFor="reply-text">
          <textarea
            id="reply-text"
            dir="auto"
            rows={2}
            value={text}
            onChange={(e) => edit(setText)(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) void send(e);
            }}
          />
        </Field>
      )}
      {effective === 'media' && (
        <div className="grid-2">
          <Field label={t('inbox.mediaType')} htmlFor="reply-media-type">
            <select id="reply-media-type" value={mediaType} onChange={(e) => edit(setMediaType)(e.target.value as MediaType)}>
              {(['image', 'video', 'document', 'audio'] as const).map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </Field>
          <Field label={t('inbox.mediaUrl')} error={errors.mediaUrl} htmlFor="reply-media-url">
            <input id="reply-media-url" dir="ltr" placeholder="https://…" value={mediaUrl} onChange={(e) => edit(setMediaUrl)(e.target.value)} />
          </Field>
          {mediaType !== 'audio' && (
            <Field label={t('inbox.caption')} error={errors.caption} htmlFor="reply-caption">
              <input id="reply-caption" dir="auto" value={caption} onChange={(e) => edit(setCaption)(e.target.value)} />
            </Field>
          )}
          {mediaType === 'document' && (
            <Field label={t('inbox.filename')} error={errors.filename} htmlFor="reply-filename">
              <input id="reply-filename" value={filename} onChange={(e) => edit(setFilename)(e.target.value)} />
            </Field>
          )}
        </div>
      )}
      {effective === 'template' && (
        <div className="grid-2">
          <Field label={t('inbox.templateName')} error={errors.templateName} htmlFor="reply-template">
            <input id="reply-template" dir="ltr" value={templateName} onChange={(e) => edit(setTemplateName)(e.target.value)} />
          </Field>
          <Field label={t('inbox.templateLanguage')} error={errors.templateLanguage} htmlFor="reply-template-lang">
            <input id="reply-template-lang" dir="ltr" value={templateLanguage} onChange={(e) => edit(setTemplateLanguage)(e.target.value)} />
          </Field>
          <Field label={t('inbox.templateParams')} error={errors.templateParams} htmlFor="reply-template-params">
            <textarea id="reply-template-params" dir="auto" rows={2} value={templateParams} onChange={(e) => edit(setTemplateParams)(e.target.value)} />
          </Field>
        </div>
      )}
      <div className="row end">
        <button type="submit" className="primary" disabled={busy}>
          {t('inbox.send')}
        </button>
      </div>
    </form>
  );
}
