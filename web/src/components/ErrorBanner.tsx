import { useT } from '../i18n';

/** An error from the API (or a failed check), in words, until the user dismisses it or retries. */
export function ErrorBanner({ error, onDismiss }: { error: string | null | undefined; onDismiss?: () => void }) {
  const t = useT();
  if (!error) return null;
  return (
    <div className="banner banner-error" role="alert">
      <span dir="auto">{error}</span>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss} aria-label={t('common.dismiss')}>
          ×
        </button>
      )}
    </div>
  );
}

export function Notice({ text, onDismiss }: { text: string | null | undefined; onDismiss?: () => void }) {
  if (!text) return null;
  return (
    <div className="banner banner-ok" role="status">
      <span dir="auto">{text}</span>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss} aria-label="dismiss">
          ×
        </button>
      )}
    </div>
  );
}
