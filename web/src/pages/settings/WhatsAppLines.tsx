import { useState, type FormEvent } from 'react';
import { api, errorText, type WhatsAppLine } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { useLoad } from '../../components/useLoad';
import { useT } from '../../i18n';

type Form = { phoneNumberId: string; wabaId: string; displayPhoneNumber: string; accessToken: string; verifyToken: string };
const empty: Form = { phoneNumberId: '', wabaId: '', displayPhoneNumber: '', accessToken: '', verifyToken: '' };

/** The tenant's WhatsApp Cloud API lines: tokens are only ever shown masked. */
export function WhatsAppLines() {
  const t = useT();
  const lines = useLoad(() => api.lines(), []);
  const [form, setForm] = useState<Form>(empty);
  const [errors, setErrors] = useState<Partial<Form>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function check(): Partial<Form> {
    const e: Partial<Form> = {};
    if (!/^\d{1,32}$/.test(form.phoneNumberId.trim())) e.phoneNumberId = "must be Meta's phone number id (digits only)";
    if (!form.wabaId.trim()) e.wabaId = t('common.required');
    if (!form.accessToken.trim()) e.accessToken = t('common.required');
    if (form.verifyToken.trim() && form.verifyToken.trim().length < 8) e.verifyToken = 'must be at least 8 characters';
    return e;
  }

  async function add(ev: FormEvent) {
    ev.preventDefault();
    const e = check();
    setErrors(e);
    if (Object.keys(e).length) return;
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = { phoneNumberId: form.phoneNumberId.trim(), wabaId: form.wabaId.trim(), accessToken: form.accessToken.trim() };
      if (form.displayPhoneNumber.trim()) body.displayPhoneNumber = form.displayPhoneNumber.trim();
      if (form.verifyToken.trim()) body.verifyToken = form.verifyToken.trim();
      await api.saveLine(body);
      setForm(empty);
      await lines.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function update(line: WhatsAppLine, body: Record<string, unknown>) {
    setError(null);
    try {
      await api.updateLine(line.id, body);
      await lines.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  const input = (key: keyof Form, label: string, type = 'text') => (
    <Field label={label} error={errors[key]} htmlFor={`line-${key}`}>
      <input id={`line-${key}`} type={type} dir="ltr" autoComplete="off" value={form[key]} onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
    </Field>
  );

  return (
    <section className="card section" data-testid="lines">
      <h2>{t('settings.lines')}</h2>
      <ErrorBanner error={error ?? lines.error} onDismiss={() => (setError(null), lines.setError(null))} />
      {lines.data?.webhookUrl && (
        <p>
          {t('settings.webhookUrl')}: <code>{lines.data.webhookUrl}</code>
        </p>
      )}
      {lines.data && lines.data.lines.length === 0 && <p className="muted">{t('settings.noLines')}</p>}
      {lines.data && lines.data.lines.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>{t('settings.displayPhone')}</th>
              <th>{t('settings.phoneNumberId')}</th>
              <th>WABA</th>
              <th>{t('settings.accessToken')}</th>
              <th>Verify token</th>
              <th>{t('flows.status')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {lines.data.lines.map((l) => (
              <tr key={l.id}>
                <td dir="ltr">
                  {l.displayPhoneNumber || '—'} {l.isPrimary && <span className="badge badge-active">{t('settings.primary')}</span>}
                </td>
                <td className="mono">{l.phoneNumberId}</td>
                <td className="mono">{l.wabaId}</td>
                <td className="mono">{l.accessToken}</td>
                <td className="mono">{l.verifyToken}</td>
                <td>
                  <span className={`badge badge-${l.status}`}>{l.status}</span>
                </td>
                <td>
                  <div className="row">
                  {!l.isPrimary && (
                    <button type="button" onClick={() => void update(l, { isPrimary: true })}>
                      {t('settings.makePrimary')}
                    </button>
                  )}
                  {l.status === 'disabled' ? (
                    <button type="button" onClick={() => void update(l, { status: 'active' })}>
                      {t('settings.enable')}
                    </button>
                  ) : (
                    <button type="button" onClick={() => void update(l, { status: 'disabled' })}>
                      {t('settings.disable')}
                    </button>
                  )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={add} noValidate className="grid-3">
        <h3 className="span-all">{t('settings.addLine')}</h3>
        {input('phoneNumberId', t('settings.phoneNumberId'))}
        {input('wabaId', t('settings.wabaId'))}
        {input('displayPhoneNumber', t('settings.displayPhone'))}
        {input('accessToken', t('settings.accessToken'), 'password')}
        {input('verifyToken', t('settings.verifyToken'))}
        <div className="field actions">
          <button type="submit" className="primary" disabled={busy}>
            {t('settings.addLine')}
          </button>
        </div>
      </form>
    </section>
  );
}
