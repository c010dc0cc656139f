import { useState } from 'react';
import { api, errorText } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { useLoad } from '../../components/useLoad';
import { useFormat, useT } from '../../i18n';

/** Client id and key prefix; a rotation shows the new key once, and it is gone when the page is left. */
export function ApiAccessSection() {
  const t = useT();
  const format = useFormat();
  const access = useLoad(() => api.apiAccess(), []);
  const [newKey, setNewKey] = useState<{ clientId: string; apiKey: string; message: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const a = access.data;

  async function rotate() {
    if (a?.clientId && !window.confirm(t('settings.rotateConfirm'))) return;
    setBusy(true);
    setError(null);
    try {
      const rotated = await api.rotateKey();
      setNewKey(rotated);
      await access.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card section" data-testid="api-access">
      <h2>{t('settings.apiAccess')}</h2>
      <ErrorBanner error={error ?? access.error} onDismiss={() => (setError(null), access.setError(null))} />
      {a && (
        <dl className="pairs">
          <dt>{t('settings.clientId')}</dt>
          <dd className="mono">{a.clientId ?? '—'}</dd>
          <dt>{t('settings.keyPrefix')}</dt>
          <dd className="mono">{a.keyPrefix ? `${a.keyPrefix}…` : t('settings.noKey')}</dd>
          <dt>{t('settings.rotatedAt')}</dt>
          <dd>{a.rotatedAt ? format.dateTime(a.rotatedAt) : '—'}</dd>
          <dt>{t('settings.approved')}</dt>
          <dd>{a.apiAccessApproved ? '✓' : <span className="warn-text">{t('settings.notApproved')}</span>}</dd>
        </dl>
      )}
      {newKey && (
        <div className="banner banner-warn" role="status" data-testid="new-key">
          <strong>{t('settings.newKey')}</strong>
          <div className="key-box">
            <code>{newKey.apiKey}</code>
            <button type="button" onClick={() => void navigator.clipboard?.writeText(newKey.apiKey)}>
              {t('editor.copy')}
            </button>
          </div>
          <small>{newKey.message}</small>
        </div>
      )}
      <button type="button" onClick={() => void rotate()} disabled={busy}>
        {t('settings.rotate')}
      </button>
    </section>
  );
}
