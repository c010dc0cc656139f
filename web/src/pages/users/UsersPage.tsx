import { useState, type FormEvent } from 'react';
import { api, errorText, type ManagedUser, type Role } from '../../api';
import { ErrorBanner, Notice } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { useLoad } from '../../components/useLoad';
import { useT } from '../../i18n';
import { useSession } from '../../session';

const roles: Role[] = ['user', 'owner', 'admin'];

/** User management: an admin sees every account and approves API use; an owner manages its own tenant. */
export function UsersPage() {
  const t = useT();
  const { user: me } = useSession();
  const users = useLoad(() => api.users({ limit: 200 }), []);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function update(u: ManagedUser, body: Record<string, unknown>) {
    setError(null);
    setNotice(null);
    try {
      const saved = await api.updateUser(u.id, body);
      users.setData((d) => (d ? { ...d, users: d.users.map((x) => (x.id === saved.id ? saved : x)) } : d));
      setNotice(`${t('users.saved')}: ${saved.username}`);
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <div className="page">
      <h1>{t('users.title')}</h1>
      <ErrorBanner error={error ?? users.error} onDismiss={() => (setError(null), users.setError(null))} />
      <Notice text={notice} onDismiss={() => setNotice(null)} />
      {users.data && (
        <table className="table" data-testid="users">
          <thead>
            <tr>
              <th>{t('users.username')}</th>
              <th>{t('users.displayName')}</th>
              <th>{t('users.email')}</th>
              <th>{t('users.role')}</th>
              <th>{t('users.disabled')}</th>
              <th>{t('users.api')}</th>
            </tr>
          </thead>
          <tbody>
            {users.data.users.map((u) => (
              <tr key={u.id}>
                <td className="mono">{u.username}</td>
                <td dir="auto">{u.displayName}</td>
                <td>{u.email ?? '—'}</td>
                <td>
                  <select aria-label={t('users.role')} value={u.role} disabled={u.id === me.id} onChange={(e) => void update(u, { role: e.target.value })}>
                    {roles
                      .filter((r) => r !== 'admin' || me.role === 'admin' || u.role === 'admin')
                      .map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                  </select>
                </td>
                <td>
                  <input type="checkbox" aria-label={t('users.disabled')} checked={u.disabled} disabled={u.id === me.id} onChange={(e) => void update(u, { disabled: e.target.checked })} />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={t('users.api')}
                    checked={u.apiAccessApproved}
                    disabled={me.role !== 'admin'}
                    title={me.role !== 'admin' ? 'Only an administrator approves API use' : undefined}
                    onChange={(e) => void update(u, { apiAccessApproved: e.target.checked })}
                  />
                  {u.hasApiCredentials && <span className="muted small"> key</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <NewUserForm onCreated={() => void users.reload()} canCreateAdmin={me.role === 'admin'} />
    </div>
  );
}

type Form = { username: string; password: string; displayName: string; email: string; role: Role };

function NewUserForm({ onCreated, canCreateAdmin }: { onCreated: () => void; canCreateAdmin: boolean }) {
  const t = useT();
  const [form, setForm] = useState<Form>({ username: '', password: '', displayName: '', email: '', role: 'user' });
  const [errors, setErrors] = useState<Partial<Record<keyof Form, string>>>({});
  const [error, setError] = useState<string | null>(null);

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const e: Partial<Record<keyof Form, string>> = {};
    if (!/^[A-Za-z0-9._@+-]{3,64}$/.test(form.username.trim())) e.username = 'at least 3 of letters, digits and . _ @ + -';
    if (form.password.length < 8) e.password = 'must be at least 8 characters';
    if (form.email.trim() && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(form.email.trim())) e.email = 'must be a valid e-mail address';
    setErrors(e);
    if (Object.keys(e).length) return;
    setError(null);
    try {
      await api.createUser({
        username: form.username.trim(),
        password: form.password,
        role: form.role,
        ...(form.displayName.trim() ? { displayName: form.displayName.trim() } : {}),
        ...(form.email.trim() ? { email: form.email.trim() } : {}),
      });
      setForm({ username: '', password: '', displayName: '', email: '', role: 'user' });
      onCreated();
    } catch (err) {
      setError(errorText(err));
    }
  }

  const input = (key: Exclude<keyof Form, 'role'>, label: string, type = 'text') => (
    <Field label={label} error={errors[key]} htmlFor={`user-${key}`}>
      <input id={`user-${key}`} type={type} autoComplete="off" value={form[key]} onChange={(ev) => setForm({ ...form, [key]: ev.target.value })} />
    </Field>
  );

  return (
    <form className="card section grid-3" onSubmit={submit} noValidate>
      <h3 className="span-all">{t('users.add')}</h3>
      <div className="span-all">
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
      </div>
      {input('username', t('users.username'))}
      {input('password', t('users.password'), 'password')}
      {input('displayName', t('users.displayName'))}
      {input('email', t('users.email'), 'email')}
      <Field label={t('users.role')} htmlFor="user-role">
        <select id="user-role" value={form.role} onChange={(ev) => setForm({ ...form, role: ev.target.value as Role })}>
          {roles
            .filter((r) => r !== 'admin' || canCreateAdmin)
            .map((r) => (
              <option key={r}>{r}</option>
            ))}
        </select>
      </Field>
      <div className="field actions">
        <button type="submit" className="primary">
          {t('common.create')}
        </button>
      </div>
    </form>
  );
}
