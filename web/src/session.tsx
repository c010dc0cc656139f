import { createContext, useContext } from 'react';
import type { Me, Theme } from './api';

export interface Session {
  user: Me;
  language: string;
  theme: Theme;
  setLanguage(language: string): void;
  setTheme(theme: Theme): void;
  logout(): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
