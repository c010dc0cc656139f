import { useState, type FormEvent } from 'react';
import { api, errorText, type SmsSettings, type SmsSettingsBody } from '../../api';
import { ErrorBanner, Notice } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { useLoad } from '../../components/useLoad';
import { ltr, useFormat, useT, type MessageKey } from '../../i18n';
import { useSession } from '../../session';

type Form = { accountSid: string; authToken: string; sender: string; baseUrl: string; statusCallbackUrl: string };
type Errors = Partial<Record<keyof Form, MessageKey>>;

const e164 = /^\+[1-9]\d{6,14}$/;
const messagingService = /^MG[A-Za-z0-9]{8,64}$/;
const twilioSid = /^AC[A-Za-z0-9]{8,62}$/;
// Another provider that speaks Twilio's API names its accounts its own way: the API's own rule then.
const providerSid = /^[A-Za-z0-9_-]{2,64}$/;
const twilioHost = 'api.twilio.com';

function isHttpUrl(value: string): boolean {
  try {
    return /^https?:$/.test(new URL(value).protocol);
  } catch {
    return false;
  }
}

function formFor(s: SmsSettings | null | undefined): Form {
  return {
    accountSid: s?.accountSid ?? '',
    authToken: '',
    sender: s?.from ?? s?.messagingServiceSid ?? '',
    baseUrl: s && new URL(s.baseUrl).host !== twilioHost ? s.baseUrl : '',
    statusCallbackUrl: s?.statusCallbackUrl ?? '',
  };
}

/**
 * The tenant's SMS provider, the fallback engine's last channel. The auth token is write-only: the API shows it
 * masked, and an empty token field keeps the stored one. Only owners and admins may change it (the API's rule).
 */
export function SmsSection() {
  const t = useT();
  const format = useFormat();
  const { user } = useSession();
  const canEdit = user.role !== 'user';
  const settings = useLoad(() => api.smsSettings(), []);
  const [form, setForm] = useState<Form | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const s = settings.data;
  // The form starts from what is stored, once it has loaded; after that it is the user's.
  const values = form ?? formFor(s);

  function check(): Errors {
    const e: Errors = {};
    const baseUrl = values.baseUrl.trim();
    const sid = values.accountSid.trim();
    const onTwilio = !baseUrl || (isHttpUrl(baseUrl) && new URL(baseUrl).host === twilioHost);
    if (!sid) e.accountSid = 'common.required';
    else if (onTwilio ? !twilioSid.test(sid) : !providerSid.test(sid)) e.accountSid = onTwilio ? 'settings.smsBadSid' : 'settings.smsBadProviderSid';
    const token = values.authToken.trim();
    if (!token && !s) e.authToken = 'common.required';
    else if (token && token.length < 8) e.authToken = 'settings.smsBadToken';
    const sender = values.sender.trim();
    if (!sender) e.sender = 'common.required';
    else if (!e164.test(sender) && !messagingService.test(sender)) e.sender = 'settings.smsBadSender';
    if (baseUrl && !isHttpUrl(baseUrl)) e.baseUrl = 'settings.smsBadUrl';
    if (values.statusCallbackUrl.trim() && !isHttpUrl(values.statusCallbackUrl.trim())) e.statusCallbackUrl = 'settings.smsBadUrl';
    return e;
  }

  async function run(action: () => Promise<void>, done: MessageKey) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await action();
      setNotice(t(done));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function save(ev: FormEvent) {
    ev.preventDefault();
    const e = check();
    setErrors(e);
    if (Object.keys(e).length) return;
    const sender = values.sender.trim();
    const callback = values.statusCallbackUrl.trim();
    const body: SmsSettingsBody = {
      accountSid: values.accountSid.trim(),
      // One sender at a time: choosing a number clears the messaging service, and the other way round.
      from: e164.test(sender) ? sender : null,
      messagingServiceSid: messagingService.test(sender) ? sender : null,
      baseUrl: values.baseUrl.trim() || `https://${twilioHost}`,
    };
    if (values.authToken.trim()) body.authToken = values.authToken.trim();
    // Left empty on the first save, the API fills in its own status callback URL; later, empty means none.
    if (callback || s) body.statusCallbackUrl = callback || null;
    await run(async () => {
      const saved = await api.saveSmsSettings(body);
      settings.setData(saved);
      setForm(formFor(saved));
    }, 'settings.smsSaved');
  }

  async function toggle(fallbackEnabled: boolean) {
    await run(async () => settings.setData(await api.saveSmsSettings({ fallbackEnabled })), 'settings.smsSaved');
  }

  async function remove() {
    if (!window.confirm(t('settings.smsRemoveConfirm'))) return;
    await run(async () => {
      await api.deleteSmsSettings();
      settings.setData(null);
      setForm(formFor(null));
    }, 'settings.smsRemoved');
  }

  const input = (key: keyof Form, label: string, opts: { type?: string; hint?: string } = {}) => (
    <Field label={label} error={errors[key] && t(errors[key])} hint={opts.hint} htmlFor={`sms-${key}`}>
      <input
        id={`sms-${key}`}
        type={opts.type ?? 'text'}
        dir="ltr"
        autoComplete={opts.type === 'password' ? 'new-password' : 'off'}
        value={values[key]}
        onChange={(e) => setForm({ ...values, [key]: e.target.value })}
      />
    </Field>
  );

  return (
    <section className="card section" data-testid="sms">
      <h2>{t('settings.sms')}</h2>
      <p className="muted">{t('settings.smsIntro')}</p>
      <ErrorBanner error={error ?? settings.error} onDismiss={() => (setError(null), settings.setError(null))} />
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      {s === null && <p data-testid="sms-not-configured">{t('settings.smsNotConfigured')}</p>}
      {s && (
        <dl className="pairs" data-testid="sms-current">
          <dt>{t('settings.smsAccountSid')}</dt>
          <dd className="mono">{s.accountSid}</dd>
          <dt>{t('settings.smsAuthToken')}</dt>
          <dd className="mono" data-testid="sms-token">
            {s.authToken}
          </dd>
          <dt>{t('settings.smsSender')}</dt>
          <dd className="mono">{ltr(s.from ?? s.messagingServiceSid ?? '—')}</dd>
          <dt>{t('settings.smsBaseUrl')}</dt>
          <dd className="mono">{s.baseUrl}</dd>
          <dt>{t('settings.smsCallbackUrl')}</dt>
          <dd className="mono">{s.statusCallbackUrl ?? '—'}</dd>
          <dt>{t('settings.smsUpdatedAt')}</dt>
          <dd>{format.dateTime(s.updatedAt)}</dd>
        </dl>
      )}
      {s && (
        <p>
          <label className="row">
            <input type="checkbox" checked={s.fallbackEnabled} disabled={!canEdit || busy} onChange={(e) => void toggle(e.target.checked)} />
            {t('settings.smsFallback')}
          </label>
        </p>
      )}
      {!canEdit && <p className="muted">{t('settings.smsReadOnly')}</p>}
      {canEdit && s !== undefined && (
        <form onSubmit={save} noValidate className="grid-3">
          {input('accountSid', t('settings.smsAccountSid'))}
          {input('authToken', t('settings.smsAuthToken'), { type: 'password', hint: s ? t('settings.smsAuthTokenKeep') : undefined })}
          {input('sender', t('settings.smsSender'))}
          {input('baseUrl', t('settings.smsBaseUrl'), { hint: t('settings.smsBaseUrlHint') })}
          {input('statusCallbackUrl', t('settings.smsCallbackUrl'))}
          <div className="field actions">
            <div className="row">
              <button type="submit" className="primary" disabled={busy}>
                {t('settings.smsSave')}
              </button>
              {s && (
                <button type="button" className="danger" disabled={busy} onClick={() => void remove()}>
                  {t('settings.smsRemove')}
                </button>
              )}
            </div>
          </div>
        </form>
      )}
    </section>
  );
}
