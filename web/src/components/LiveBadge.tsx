import { useT } from '../i18n';
import type { LiveState } from '../live';

/** Whether the page hears of changes as they happen, or falls back to refreshing every few seconds. */
export function LiveBadge({ state }: { state: LiveState }) {
  const t = useT();
  return (
    <div className={`live live-${state}`} data-testid="live" data-state={state} role="status">
      <span className="live-dot" aria-hidden="true" /> {t(`live.${state}`)}
    </div>
  );
}
