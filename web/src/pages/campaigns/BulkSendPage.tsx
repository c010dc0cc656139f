import { useMemo, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { api, errorText, newKey, type BulkSendBody } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { useLoad } from '../../components/useLoad';
import { ltr, useT } from '../../i18n';
import { Link, navigate } from '../../router';
import { bodyOf, filled, paramCount } from '../templates/template-text';
import { parseRecipients } from './recipients';

type Source = 'template' | 'group';
type Errors = Partial<Record<'choice' | 'params' | 'recipients' | 'name', string>>;

/**
 * A bulk send: an approved template (or a template group, tried in order) to many recipients, from a line.
 * Recipients are pasted or read from a CSV file (phone, then that recipient's parameters) and checked here,
 * line by line, before anything is sent; the campaign's progress page follows.
 */
export function BulkSendPage() {
  const t = useT();
  const templates = useLoad(() => api.templates({ status: 'APPROVED' }), []);
  const groups = useLoad(() => api.groups(), []);
  const lines = useLoad(() => api.lines(), []);
  const [source, setSource] = useState<Source>('template');
  const [choice, setChoice] = useState('');
  const [phoneNumberId, setPhoneNumberId] = useState('');
  const [name, setName] = useState('');
  const [params, setParams] = useState<string[]>([]);
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const key = useRef(newKey());

  const template = source === 'template' ? templates.data?.find((x) => x.id === choice) : undefined;
  const group = source === 'group' ? groups.data?.find((g) => g.id === choice) : undefined;
  // A group's templates are alternatives for the same message: its first approved one tells the parameters.
  const leading = template ?? group?.templateIds.map((id) => templates.data?.find((x) => x.id === id)).find((x) => x !== undefined);
  const body = leading ? bodyOf(leading) : '';
  const expected = paramCount(body);
  const parsed = useMemo(() => parseRecipients(text, expected, t), [text, expected, t]);
  const withoutOwn = parsed.recipients.filter((r) => !r.params).length;

  const edit = <T,>(setter: (v: T) => void) => (v: T) => {
    setter(v);
    key.current = newKey();
  };

  function readFile(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    if (!file) return;
    file
      .text()
      .then((content) => edit(setText)(content))
      .catch((err: unknown) => setError(errorText(err)));
    e.target.value = '';
  }

  function check(): Errors {
    const e: Errors = {};
    if (!choice) e.choice = source === 'template' ? t('bulk.pickTemplate') : t('bulk.pickGroup');
    if (name.trim().length > 200) e.name = t('common.tooLong', { max: 200 });
    if (parsed.problems.length) e.recipients = parsed.problems.slice(0, 5).join(' · ') + (parsed.problems.length > 5 ? ` (+${parsed.problems.length - 5})` : '');
    else if (parsed.recipients.length === 0) e.recipients = t('bulk.noRecipients');
    if (withoutOwn > 0 && Array.from({ length: expected }, (_, i) => params[i]).some((p) => !p?.trim())) e.params = t('bulk.defaultParams', { count: withoutOwn });
    return e;
  }

  async function send(ev: FormEvent) {
    ev.preventDefault();
    const found = check();
    setErrors(found);
    if (Object.keys(found).length) return;
    const body: BulkSendBody = {
      ...(source === 'template' ? { templateId: choice } : { templateGroupId: choice }),
      recipients: parsed.recipients,
      ...(name.trim() ? { name: name.trim() } : {}),
      ...(phoneNumberId ? { phoneNumberId } : {}),
      ...(expected > 0 && withoutOwn > 0 ? { params: Array.from({ length: expected }, (_, i) => params[i].trim()) } : {}),
    };
    setBusy(true);
    setError(null);
    try {
      const accepted = await api.bulkSend(body, key.current);
      navigate(`/campaigns/${accepted.campaignId}`);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  const noTemplates = templates.data && templates.data.length === 0;
  return (
    <div className="page">
      <Link to="/campaigns" className="muted">
        ← {t('campaigns.title')}
      </Link>
      <h1>{t('bulk.title')}</h1>
      <ErrorBanner
        error={error ?? templates.error ?? groups.error ?? lines.error}
        onDismiss={() => (setError(null), templates.setError(null), groups.setError(null), lines.setError(null))}
      />
      {noTemplates && (
        <div className="banner banner-warn">
          {t('bulk.noApproved')} <Link to="/templates">{t('nav.templates')} →</Link>
        </div>
      )}
      <form className="card" onSubmit={send} noValidate data-testid="bulk-send">
        <div className="grid-2">
          <div>
            <div className="tabs small" role="radiogroup" aria-label={t('bulk.message')}>
              {(['template', 'group'] as const).map((s) => (
                <button
                  key={s}
                  type="button"
                  role="radio"
                  aria-checked={source === s}
                  className={source === s ? 'active' : undefined}
                  onClick={() => (edit(setSource)(s), setChoice(''))}
                >
                  {t(`bulk.${s}`)}
                </button>
              ))}
            </div>
            <Field label={source === 'template' ? t('bulk.templateLabel') : t('bulk.groupLabel')} error={errors.choice} htmlFor="bulk-choice">
              <select id="bulk-choice" value={choice} onChange={(e) => edit(setChoice)(e.target.value)}>
                <option value="">—</option>
                {source === 'template'
                  ? templates.data?.map((x) => (
                      <option key={x.id} value={x.id}>
                        {x.name} ({x.language})
                      </option>
                    ))
                  : groups.data?.map((g) => (
                      <option key={g.id} value={g.id}>
                        {g.name} ({g.templates.map((m) => m.name).join(' → ')})
                      </option>
                    ))}
              </select>
            </Field>
            <Field label={t('bulk.line')} htmlFor="bulk-line" hint={t('bulk.lineHint')}>
              <select id="bulk-line" value={phoneNumberId} onChange={(e) => edit(setPhoneNumberId)(e.target.value)}>
                <option value="">{t('bulk.defaultLine')}</option>
                {lines.data?.lines.map((l) => (
                  <option key={l.id} value={l.phoneNumberId}>
                    {ltr(l.displayPhoneNumber || l.phoneNumberId)}
                    {l.isPrimary ? ` · ${t('settings.primary')}` : ''}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={t('bulk.name')} error={errors.name} htmlFor="bulk-name" hint={t('templates.optional')}>
              <input id="bulk-name" dir="auto" value={name} onChange={(e) => edit(setName)(e.target.value)} />
            </Field>
            {expected > 0 && (
              <fieldset className="items">
                <legend>{t('bulk.params')}</legend>
                <p className="muted small">{t('bulk.paramsHelp')}</p>
                {Array.from({ length: expected }, (_, i) => (
                  <Field key={i} label={`{{${i + 1}}}`} htmlFor={`bulk-param-${i + 1}`} inline>
                    <input
                      id={`bulk-param-${i + 1}`}
                      dir="auto"
                      value={params[i] ?? ''}
                      onChange={(e) => {
                        const next = [...params];
                        next[i] = e.target.value;
                        edit(setParams)(next);
                      }}
                    />
                  </Field>
                ))}
                {errors.params && (
                  <small className="field-error" role="alert">
                    {errors.params}
                  </small>
                )}
              </fieldset>
            )}
            {body && (
              <div className="phone-preview">
                <div className="bubble bubble-in bubble-text" dir="auto">
                  {filled(body, params)}
                </div>
              </div>
            )}
          </div>
          <div>
            <Field label={t('bulk.recipients')} error={errors.recipients} htmlFor="bulk-recipients" hint={t('bulk.recipientsHint', { count: expected })}>
              <textarea
                id="bulk-recipients"
                dir="ltr"
                rows={10}
                className="mono"
                placeholder={expected ? '+972501234567,Dana' : '+972501234567'}
                value={text}
                onChange={(e) => edit(setText)(e.target.value)}
              />
            </Field>
            <div className="row">
              <label className="button" htmlFor="bulk-file">
                {t('bulk.upload')}
              </label>
              <input id="bulk-file" type="file" accept=".csv,.txt,text/csv,text/plain" className="visually-hidden" onChange={readFile} />
              <span className="muted small" data-testid="recipient-count">
                {t('bulk.counted', { count: parsed.recipients.length, duplicates: parsed.duplicates, problems: parsed.problems.length })}
              </span>
            </div>
          </div>
        </div>
        <div className="row end">
          <button type="submit" className="primary" disabled={busy}>
            {t('bulk.send', { count: parsed.recipients.length })}
          </button>
        </div>
      </form>
    </div>
  );
}
