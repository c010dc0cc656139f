import type { ReactNode } from 'react';
import type { Theme } from '../api';
import { languages, useT } from '../i18n';
import { Link } from '../router';
import { useSession } from '../session';

const themes: Theme[] = ['light', 'dark', 'system'];

/** The frame of every signed-in page: navigation, language, theme and the account. */
export function Layout({ path, children }: { path: string; children: ReactNode }) {
  const t = useT();
  const session = useSession();
  const links = [
    { to: '/flows', label: t('nav.flows') },
    { to: '/inbox', label: t('nav.inbox') },
    { to: '/templates', label: t('nav.templates') },
    { to: '/campaigns', label: t('nav.campaigns') },
    ...(session.user.role !== 'user' ? [{ to: '/monitor', label: t('nav.monitor') }] : []),
    { to: '/settings', label: t('nav.settings') },
    ...(session.user.role !== 'user' ? [{ to: '/users', label: t('nav.users') }] : []),
  ];
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">{t('app.name')}</span>
        <nav>
          {links.map((l) => (
            <Link key={l.to} to={l.to} className={path === l.to || path.startsWith(`${l.to}/`) ? 'active' : undefined}>
              {l.label}
            </Link>
          ))}
        </nav>
        <div className="topbar-end">
          <select aria-label={t('nav.language')} value={session.language} onChange={(e) => session.setLanguage(e.target.value)}>
            {languages.map((l) => (
              <option key={l.code} value={l.code}>
                {l.label}
              </option>
            ))}
          </select>
          <select aria-label={t('nav.theme')} value={session.theme} onChange={(e) => session.setTheme(e.target.value as Theme)}>
            {themes.map((th) => (
              <option key={th} value={th}>
                {t(`theme.${th}`)}
              </option>
            ))}
          </select>
          <span className="muted user-name" dir="auto">
            {session.user.displayName || session.user.username}
          </span>
          <button type="button" onClick={session.logout}>
            {t('nav.logout')}
          </button>
        </div>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
