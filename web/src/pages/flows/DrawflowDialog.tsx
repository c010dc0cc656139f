import { useEffect, useMemo, useState } from 'react';
import { useT } from '../../i18n';

/** Export shows the saved draft as Drawflow JSON; import sends a pasted or chosen document to the API. */
export function DrawflowDialog({ mode, exported, fileName, onImport, onClose }: { mode: 'import' | 'export'; exported?: unknown; fileName: string; onImport: (doc: unknown) => Promise<void>; onClose: () => void }) {
  const t = useT();
  const [text, setText] = useState(mode === 'export' ? JSON.stringify(exported ?? null, null, 2) : '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function doImport() {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return setError(`This is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || !('drawflow' in doc)) return setError('A Drawflow document has a "drawflow" key at the top.');
    setBusy(true);
    setError(null);
    try {
      await onImport(doc);
      onClose();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const href = useMemo(() => (mode === 'export' ? URL.createObjectURL(new Blob([text], { type: 'application/json' })) : undefined), [mode, text]);
  useEffect(() => () => void (href && URL.revokeObjectURL(href)), [href]);
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label={mode === 'export' ? t('editor.export') : t('editor.import')}>
      <div className="modal card">
        <h3>{mode === 'export' ? t('editor.export') : t('editor.import')}</h3>
        <p className="muted">{mode === 'export' ? t('editor.exportHelp') : t('editor.importHelp')}</p>
        {mode === 'import' && (
          <input
            type="file"
            accept="application/json,.json"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              if (file) setText(await file.text());
            }}
          />
        )}
        <textarea className="mono drawflow-text" rows={18} value={text} readOnly={mode === 'export'} onChange={(e) => setText(e.target.value)} aria-label="Drawflow JSON" />
        {error && (
          <div className="banner banner-error" role="alert" dir="auto">
            {error}
          </div>
        )}
        <div className="row end">
          {mode === 'export' ? (
            <>
              <button type="button" onClick={() => void navigator.clipboard?.writeText(text)}>
                {t('editor.copy')}
              </button>
              <a className="button" href={href} download={fileName}>
                {t('editor.download')}
              </a>
            </>
          ) : (
            <button type="button" className="primary" disabled={busy || !text.trim()} onClick={doImport}>
              {t('editor.importDo')}
            </button>
          )}
          <button type="button" onClick={onClose}>
            {t('common.close')}
          </button>
        </div>
      </div>
    </div>
  );
}
