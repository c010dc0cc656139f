import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, errorText, setUnauthenticatedHandler, type Me, type Theme } from './api';
import { ErrorBanner } from './components/ErrorBanner';
import { Layout } from './components/Layout';
import { I18nContext, initialLanguage, isRtl, translator } from './i18n';
import { disconnect as disconnectLive } from './live';
import { BulkSendPage } from './pages/campaigns/BulkSendPage';
import { CampaignPage } from './pages/campaigns/CampaignPage';
import { CampaignsPage } from './pages/campaigns/CampaignsPage';
import { FlowEditorPage } from './pages/flows/FlowEditorPage';
import { FlowsPage } from './pages/flows/FlowsPage';
import { InboxPage } from './pages/inbox/InboxPage';
import { LoginPage } from './pages/login/LoginPage';
import { MonitorPage } from './pages/monitor/MonitorPage';
import { SettingsPage } from './pages/settings/SettingsPage';
import { TemplatesPage } from './pages/templates/TemplatesPage';
import { UsersPage } from './pages/users/UsersPage';
import { match, navigate, useLocation } from './router';
import { SessionContext, type Session } from './session';

function applyLook(language: string, theme: Theme): void {
  const root = document.documentElement;
  root.lang = language;
  root.dir = isRtl(language) ? 'rtl' : 'ltr';
  root.dataset.theme = theme;
}

export function App() {
  const [user, setUser] = useState<Me | null | undefined>(undefined);
  const [language, setLanguageState] = useState(initialLanguage);
  const [theme, setThemeState] = useState<Theme>(() => (localStorage.getItem('flowbot.theme') as Theme | null) ?? 'system');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { path, query } = useLocation();
  const t = useMemo(() => translator(language), [language]);

  useEffect(() => applyLook(language, theme), [language, theme]);

  const signedIn = useCallback((me: Me) => {
    setUser(me);
    setLanguageState(me.language || 'en');
    setThemeState(me.theme);
    localStorage.setItem('flowbot.language', me.language || 'en');
    localStorage.setItem('flowbot.theme', me.theme);
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      disconnectLive();
      setUser(null);
      setNotice('expired');
    });
    api
      .me()
      .then((r) => signedIn(r.user))
      .catch((err) => {
        setUser(null);
        if ((err as { status?: number }).status !== 401) setError(errorText(err));
      });
  }, [signedIn]);

  const session: Session | null = useMemo(
    () =>
      user
        ? {
            user,
            language,
            theme,
            setLanguage(next) {
              setLanguageState(next);
              localStorage.setItem('flowbot.language', next);
              api.saveLanguage(next).catch((err) => setError(errorText(err)));
            },
            setTheme(next) {
              setThemeState(next);
              localStorage.setItem('flowbot.theme', next);
              api.saveTheme(next).catch((err) => setError(errorText(err)));
            },
            logout() {
              api
                .logout()
                .then(() => {
                  disconnectLive();
                  setUser(null);
                  navigate('/login');
                })
                .catch((err) => setError(errorText(err)));
            },
          }
        : null,
    [user, language, theme],
  );

  let page;
  if (user === undefined) page = <div className="center muted">{t('common.loading')}</div>;
  else if (!session) {
    page = (
      <LoginPage
        language={language}
        onLanguage={(l) => {
          setLanguageState(l);
          localStorage.setItem('flowbot.language', l);
        }}
        notice={notice === 'expired' ? t('login.expired') : null}
        onSignedIn={(me) => {
          setNotice(null);
          signedIn(me);
          if (path === '/' || path === '/login') navigate('/flows', { replace: true });
        }}
      />
    );
  } else {
    page = <Layout path={path}>{route(path, query, session)}</Layout>;
  }

  return (
    <I18nContext.Provider value={{ language, t }}>
      <SessionContext.Provider value={session}>
        {error && (
          <div className="global-error">
            <ErrorBanner error={error} onDismiss={() => setError(null)} />
          </div>
        )}
        {page}
      </SessionContext.Provider>
    </I18nContext.Provider>
  );
}

function route(path: string, query: URLSearchParams, session: Session) {
  let params: Record<string, string> | undefined;
  if (path === '/' || path === '/login') {
    queueMicrotask(() => navigate('/flows', { replace: true }));
    return null;
  }
  if (path === '/flows') return <FlowsPage />;
  if ((params = match('/flows/:id', path))) return <FlowEditorPage key={params.id} flowId={params.id} focusNode={query.get('node') ?? undefined} />;
  if (path === '/inbox') return <InboxPage />;
  if ((params = match('/inbox/:id', path))) return <InboxPage conversationId={params.id} />;
  if (path === '/templates') return <TemplatesPage />;
  if (path === '/campaigns') return <CampaignsPage />;
  if (path === '/campaigns/new') return <BulkSendPage />;
  if ((params = match('/campaigns/:id', path))) return <CampaignPage key={params.id} campaignId={params.id} />;
  if (path === '/monitor' && session.user.role !== 'user') return <MonitorPage />;
  if (path === '/settings') return <SettingsPage />;
  if (path === '/users' && session.user.role !== 'user') return <UsersPage />;
  return <div className="center muted">Page not found: {path}</div>;
}
