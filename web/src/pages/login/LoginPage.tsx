import { useState, type FormEvent } from 'react';
import { api, errorText, type Me } from '../../api';
import { ErrorBanner, Notice } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { languages, useT } from '../../i18n';

export function LoginPage({ onSignedIn, language, onLanguage, notice }: { onSignedIn: (me: Me) => void; language: string; onLanguage: (l: string) => void; notice: string | null }) {
  const t = useT();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ username?: string; password?: string }>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const missing = { username: username.trim() ? undefined : t('common.required'), password: password ? undefined : t('common.required') };
    setErrors(missing);
    if (missing.username || missing.password) return;
    setBusy(true);
    setError(null);
    try {
      await api.login(username.trim(), password);
      onSignedIn((await api.me()).user);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login">
      <form className="card login-card" onSubmit={submit} noValidate>
        <div className="login-head">
          <h1>{t('login.title')}</h1>
          <select aria-label={t('nav.language')} value={language} onChange={(e) => onLanguage(e.target.value)}>
            {languages.map((l) => (
              <option key={l.code} value={l.code}>
                {l.label}
              </option>
            ))}
          </select>
        </div>
        <Notice text={notice} />
        <ErrorBanner error={error} />
        <Field label={t('login.username')} error={errors.username} htmlFor="login-username">
          <input id="login-username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
        </Field>
        <Field label={t('login.password')} error={errors.password} htmlFor="login-password">
          <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {t('login.submit')}
        </button>
      </form>
    </div>
  );
}
