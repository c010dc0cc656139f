import { templateCategories, type TemplateCategory, type TemplateStatus } from '../db/entities';

/**
 * Meta reports more template states (in lists and in `message_template_status_update` events) than we keep.
 * Each maps to the status that says whether the template can be sent; `DELETED` means the template is gone;
 * undefined means the event does not change the status (FLAGGED, LOCKED, … are quality or edit notices).
 */
const byProviderState: Record<string, TemplateStatus | 'DELETED'> = {
  APPROVED: 'APPROVED',
  REINSTATED: 'APPROVED',
  PENDING: 'PENDING',
  IN_APPEAL: 'PENDING',
  REJECTED: 'REJECTED',
  PAUSED: 'PAUSED',
  DISABLED: 'DISABLED',
  DELETED: 'DELETED',
  PENDING_DELETION: 'DELETED',
  ARCHIVED: 'DELETED',
};

export const templateStatusOf = (providerState: string | undefined): TemplateStatus | 'DELETED' | undefined =>
  providerState ? byProviderState[providerState.toUpperCase()] : undefined;

/** Meta's category, when it is one we keep; otherwise (a legacy category such as TRANSACTIONAL) the fallback. */
export const templateCategoryOf = (category: string | undefined, fallback: TemplateCategory): TemplateCategory => {
  const upper = category?.toUpperCase();
  return (templateCategories as readonly string[]).includes(upper ?? '') ? (upper as TemplateCategory) : fallback;
};
