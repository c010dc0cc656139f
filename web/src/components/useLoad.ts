import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from '../api';

/**
 * Loads data for a page and keeps it current: `reload()` fetches again; with `pollMs` it refreshes in the
 * background without blanking what is shown. A failed load keeps the last data and reports the error.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], opts: { pollMs?: number } = {}) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);

  const reload = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const value = await run();
      if (mine !== seq.current) return;
      setData(value);
      setError(null);
    } catch (err) {
      if (mine === seq.current) setError(errorText(err));
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [run]);

  useEffect(() => {
    setLoading(true);
    setData(undefined);
    void reload();
  }, [reload]);

  useEffect(() => {
    if (!opts.pollMs) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, opts.pollMs);
    return () => window.clearInterval(timer);
  }, [reload, opts.pollMs]);

  return { data, setData, error, setError, loading, reload };
}
