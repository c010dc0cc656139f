import { useState, type FormEvent } from 'react';
import { api, errorText } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { useLoad } from '../../components/useLoad';
import { useFormat, useT } from '../../i18n';
import { Link, navigate } from '../../router';
import { DrawflowDialog } from './DrawflowDialog';

/** The tenant's flows; a new one starts empty, or from a Drawflow document. */
export function FlowsPage() {
  const t = useT();
  const format = useFormat();
  const flows = useLoad(() => api.flows(), []);
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string>();
  const [error, setError] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);

  const checkName = (): string | undefined => {
    const problem = name.trim() ? (name.trim().length > 200 ? 'must be at most 200 characters' : undefined) : t('common.required');
    setNameError(problem);
    return problem;
  };

  async function create(e: FormEvent) {
    e.preventDefault();
    if (checkName()) return;
    setError(null);
    try {
      const flow = await api.createFlow({ name: name.trim() });
      navigate(`/flows/${flow.id}`);
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function importNew(doc: unknown) {
    const flow = await api.createFlow({ name: name.trim() || 'Imported flow', drawflowData: doc });
    navigate(`/flows/${flow.id}`);
  }

  return (
    <div className="page">
      <h1>{t('flows.title')}</h1>
      <ErrorBanner error={error ?? flows.error} onDismiss={() => (setError(null), flows.setError(null))} />
      <form className="row card" onSubmit={create} noValidate>
        <Field label={t('flows.name')} error={nameError} htmlFor="new-flow-name">
          <input id="new-flow-name" dir="auto" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <button type="submit" className="primary">
          {t('flows.new')}
        </button>
        <button type="button" onClick={() => setImporting(true)}>
          {t('flows.import')}
        </button>
      </form>
      {flows.loading && <p className="muted">{t('common.loading')}</p>}
      {flows.data && flows.data.length === 0 && <p className="muted">{t('flows.empty')}</p>}
      {flows.data && flows.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>{t('flows.name')}</th>
              <th>{t('flows.status')}</th>
              <th>{t('flows.version')}</th>
              <th>{t('flows.updated')}</th>
            </tr>
          </thead>
          <tbody>
            {flows.data.map((f) => (
              <tr key={f.id}>
                <td>
                  <Link to={`/flows/${f.id}`} dir="auto">
                    {f.name}
                  </Link>
                </td>
                <td>
                  <span className={`badge badge-${f.status}`}>{t(`status.${f.status}`)}</span>
                </td>
                <td>{f.latestVersion ? `v${f.latestVersion}` : '—'}</td>
                <td className="muted">{format.dateTime(f.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {importing && <DrawflowDialog mode="import" fileName="" onImport={importNew} onClose={() => setImporting(false)} />}
    </div>
  );
}
