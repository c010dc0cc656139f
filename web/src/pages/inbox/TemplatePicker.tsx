import type { Template, TemplateGroup } from '../../api';
import { Field } from '../../components/Field';
import { useT } from '../../i18n';
import { Link } from '../../router';
import { bodyOf, filled, paramCount } from '../templates/template-text';

/** `t:<id>` for a template, `g:<id>` for a template group. */
export type TemplateChoice = string;

export interface ResolvedChoice {
  templateId?: string;
  templateGroupId?: string;
  /** The template sent (a group's first approved one): its language and body. */
  template?: Template;
  params: number;
}

/** What a choice stands for, from the approved templates and the groups. */
export function resolveChoice(choice: TemplateChoice, templates: Template[], groups: TemplateGroup[]): ResolvedChoice | undefined {
  const [kind, id] = [choice.slice(0, 2), choice.slice(2)];
  if (kind === 't:') {
    const template = templates.find((x) => x.id === id);
    return template ? { templateId: id, template, params: paramCount(bodyOf(template)) } : undefined;
  }
  const group = kind === 'g:' ? groups.find((g) => g.id === id) : undefined;
  if (!group) return undefined;
  const template = group.templateIds.map((tid) => templates.find((x) => x.id === tid)).find((x) => x !== undefined);
  return { templateGroupId: id, template, params: template ? paramCount(bodyOf(template)) : 0 };
}

/**
 * The reply box's template choice: an approved template or a template group, its parameters one field each,
 * and the message as the customer will see it.
 */
export function TemplatePicker(props: {
  templates: Template[] | undefined;
  groups: TemplateGroup[] | undefined;
  choice: TemplateChoice;
  params: string[];
  errors: { choice?: string; params?: string };
  onChoice: (choice: TemplateChoice) => void;
  onParams: (params: string[]) => void;
}) {
  const t = useT();
  const { templates, groups, choice, params } = props;
  if (!templates || !groups) return <p className="muted small">{t('common.loading')}</p>;
  const usableGroups = groups.filter((g) => g.templates.some((m) => m.status === 'APPROVED'));
  if (templates.length === 0 && usableGroups.length === 0) {
    return (
      <p className="muted" data-testid="no-templates">
        {t('inbox.noTemplates')} <Link to="/templates">{t('nav.templates')} →</Link>
      </p>
    );
  }
  const resolved = choice ? resolveChoice(choice, templates, groups) : undefined;
  const body = resolved?.template ? bodyOf(resolved.template) : '';
  return (
    <div className="grid-2" data-testid="template-picker">
      <div>
        <Field label={t('inbox.template')} error={props.errors.choice} htmlFor="reply-template">
          <select id="reply-template" value={choice} onChange={(e) => props.onChoice(e.target.value)}>
            <option value="">—</option>
            {templates.length > 0 && (
              <optgroup label={t('nav.templates')}>
                {templates.map((x) => (
                  <option key={x.id} value={`t:${x.id}`}>
                    {x.name} ({x.language})
                  </option>
                ))}
              </optgroup>
            )}
            {usableGroups.length > 0 && (
              <optgroup label={t('groups.title')}>
                {usableGroups.map((g) => (
                  <option key={g.id} value={`g:${g.id}`}>
                    {g.name} ({g.templates.map((m) => m.name).join(' → ')})
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </Field>
        {Array.from({ length: resolved?.params ?? 0 }, (_, i) => (
          <Field key={i} label={`{{${i + 1}}}`} htmlFor={`reply-param-${i + 1}`} inline>
            <input
              id={`reply-param-${i + 1}`}
              dir="auto"
              value={params[i] ?? ''}
              onChange={(e) => {
                const next = [...params];
                next[i] = e.target.value;
                props.onParams(next);
              }}
            />
          </Field>
        ))}
        {props.errors.params && (
          <small className="field-error" role="alert">
            {props.errors.params}
          </small>
        )}
      </div>
      {body && (
        <div className="bubble bubble-out template-preview bubble-text" dir="auto" data-testid="template-preview">
          {filled(body, params)}
        </div>
      )}
    </div>
  );
}
