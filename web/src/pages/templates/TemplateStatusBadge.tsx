import type { TemplateStatus } from '../../api';
import { useT } from '../../i18n';

/** Meta's review state of a template; only an approved one can be sent. */
export function TemplateStatusBadge({ status }: { status: TemplateStatus }) {
  const t = useT();
  return (
    <span className={`badge badge-tpl-${status}`} data-testid="template-status" data-status={status}>
      {t(`templateStatus.${status}`)}
    </span>
  );
}
