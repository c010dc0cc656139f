import { useState, type FormEvent } from 'react';
import { api, ApiError, errorText, newKey, type ReplyBody } from '../../api';
import { ErrorBanner, Notice } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { useLoad } from '../../components/useLoad';
import { useT } from '../../i18n';
import { resolveChoice, TemplatePicker, type TemplateChoice } from './TemplatePicker';

type Mode = 'text' | 'media' | 'template';
type MediaType = 'image' | 'video' | 'document' | 'audio';
type Errors = Partial<Record<'text' | 'mediaUrl' | 'caption' | 'filename' | 'choice' | 'params', string>>;

/**
 * The agent's reply: text, a media link or a template. While the 24-hour window is closed only a template can
 * go, so the box switches to it and offers the approved templates and template groups to pick from. Each
 * composed message has one idempotency key, kept across retries of the same message, so a retry after a lost
 * answer never sends twice.
 */
export function ReplyBox({ conversationId, windowOpen, onSent }: { conversationId: string; windowOpen: boolean; onSent: () => void }) {
  const t = useT();
  const [mode, setMode] = useState<Mode>(windowOpen ? 'text' : 'template');
  const [text, setText] = useState('');
  const [mediaType, setMediaType] = useState<MediaType>('image');
  const [mediaUrl, setMediaUrl] = useState('');
  const [caption, setCaption] = useState('');
  const [filename, setFilename] = useState('');
  const [choice, setChoice] = useState<TemplateChoice>('');
  const [templateParams, setTemplateParams] = useState<string[]>([]);
  const [errors, setErrors] = useState<Errors>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newKey);
  const effective: Mode = windowOpen ? mode : 'template';
  const usesTemplates = effective === 'template';
  const templates = useLoad(() => (usesTemplates ? api.templates({ status: 'APPROVED' }) : Promise.resolve(undefined)), [usesTemplates]);
  const groups = useLoad(() => (usesTemplates ? api.groups() : Promise.resolve(undefined)), [usesTemplates]);

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
    const resolved = choice ? resolveChoice(choice, templates.data ?? [], groups.data ?? []) : undefined;
    if (!resolved) return { errors: { choice: t('inbox.pickTemplate') } };
    const params = templateParams.slice(0, resolved.params).map((p) => p?.trim() ?? '');
    if (params.length < resolved.params || params.some((p) => !p)) e.params = t('inbox.fillParams', { count: resolved.params });
    return {
      errors: e,
      body: {
        messageType: 'template',
        ...(resolved.templateGroupId ? { templateGroupId: resolved.templateGroupId } : { templateId: resolved.templateId }),
        templateLanguage: resolved.template?.language ?? 'en',
        templateParams: params,
      },
    };
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
      setTemplateParams([]);
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
        <>
          <ErrorBanner error={templates.error ?? groups.error} />
          <TemplatePicker
            templates={templates.data}
            groups={groups.data}
            choice={choice}
            params={templateParams}
            errors={{ choice: errors.choice, params: errors.params }}
            onChoice={(c) => (edit(setChoice)(c), setTemplateParams([]), setErrors({}))}
            onParams={(p) => (edit(setTemplateParams)(p), setErrors({}))}
          />
        </>
      )}
      <div className="row end">
        <button type="submit" className="primary" disabled={busy}>
          {t('inbox.send')}
        </button>
      </div>
    </form>
  );
}
