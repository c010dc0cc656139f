import { useT } from '../../i18n';

const DAY_MS = 24 * 3600 * 1000;

/** WhatsApp's 24-hour customer-service window: open (and for how long) or closed (templates only). */
export function WindowState({ open, lastCustomerMessageAt }: { open: boolean; lastCustomerMessageAt: string | null }) {
  const t = useT();
  if (!open) {
    return (
      <div className="window window-closed" data-testid="window-state" data-open="false">
        {t('inbox.windowClosed')}
      </div>
    );
  }
  const leftMs = lastCustomerMessageAt ? Math.max(0, new Date(lastCustomerMessageAt).getTime() + DAY_MS - Date.now()) : 0;
  const hours = Math.floor(leftMs / 3600000);
  const minutes = Math.floor((leftMs % 3600000) / 60000);
  return (
    <div className="window window-open" data-testid="window-state" data-open="true">
      {t('inbox.windowOpen', { left: `${hours}h ${String(minutes).padStart(2, '0')}m` })}
    </div>
  );
}
