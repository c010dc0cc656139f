import type { FlowVersion } from '../../api';
import { useFormat, useT } from '../../i18n';

export function VersionsPanel({ versions, error }: { versions: FlowVersion[] | undefined; error: string | null }) {
  const t = useT();
  const format = useFormat();
  return (
    <div className="versions" data-testid="versions">
      <h3>{t('editor.versions')}</h3>
      {error && <div className="field-error">{error}</div>}
      {versions && versions.length === 0 && <p className="muted">{t('editor.noVersions')}</p>}
      <ul>
        {versions?.map((v) => (
          <li key={v.version}>
            <strong>v{v.version}</strong> <span className="muted">{format.dateTime(v.publishedAt)}</span>
            {v.shapeUpgradedAt && <span className="muted"> · upgraded</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}
