import { useEffect, useState, type FormEvent } from 'react';
import { api, errorText, type Template, type TemplateCategory, type WhatsAppLine } from '../../api';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Field } from '../../components/Field';
import { ltr, useT } from '../../i18n';
import { checkTemplate, filled, paramCount, templateBody, type TemplateForm, type TemplateFormErrors } from './template-text';

const categories: TemplateCategory[] = ['UTILITY', 'MARKETING', 'AUTHENTICATION'];
const commonLanguages = ['en', 'en_US', 'en_GB', 'he', 'ar', 'ru', 'es', 'fr', 'de', 'pt_BR'];

const empty = (phoneNumberId: string): TemplateForm => ({
  phoneNumberId,
  name: '',
  language: 'en',
  category: 'UTILITY',
  header: '',
  body: '',
  footer: '',
  examples: [],
});

/** Submits a new template to the WhatsApp Business Account of the chosen line; Meta reviews it. */
export function TemplateCreate({ lines: loaded, onCreated }: { lines: WhatsAppLine[] | undefined; onCreated: (t: Template) => void }) {
  const t = useT();
  const lines = loaded ?? [];
  const primary = lines.find((l) => l.isPrimary) ?? lines[0];
  const [form, setForm] = useState<TemplateForm>(() => empty(primary?.phoneNumberId ?? ''));
  const [errors, setErrors] = useState<TemplateFormErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!form.phoneNumberId && primary) setForm((f) => ({ ...f, phoneNumberId: primary.phoneNumberId }));
  }, [primary, form.phoneNumberId]);

  const count = paramCount(form.body);
  const set = <K extends keyof TemplateForm>(key: K, value: TemplateForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found = checkTemplate(form, t);
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setError(null);
    try {
      const created = await api.createTemplate(templateBody(form));
      setForm(empty(form.phoneNumberId));
      setErrors({});
      onCreated(created);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card section" onSubmit={submit} noValidate data-testid="template-create">
      <h2>{t('templates.create')}</h2>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="grid-2">
        <div>
          <div className="grid-2">
            <Field label={t('templates.line')} error={errors.phoneNumberId} htmlFor="tpl-line" hint={t('templates.lineHint')}>
              <select id="tpl-line" value={form.phoneNumberId} onChange={(e) => set('phoneNumberId', e.target.value)}>
                {loaded?.length === 0 && <option value="">{t('settings.noLines')}</option>}
                {lines.map((l) => (
                  <option key={l.id} value={l.phoneNumberId}>
                    {ltr(l.displayPhoneNumber || l.phoneNumberId)} · WABA {l.wabaId}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={t('templates.category')} htmlFor="tpl-category">
              <select id="tpl-category" value={form.category} onChange={(e) => set('category', e.target.value as TemplateCategory)}>
                {categories.map((c) => (
                  <option key={c} value={c}>
                    {t(`templateCategory.${c}`)}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={t('templates.name')} error={errors.name} htmlFor="tpl-name" hint={t('templates.nameRule')}>
              <input id="tpl-name" dir="ltr" value={form.name} onChange={(e) => set('name', e.target.value)} placeholder="order_update" />
            </Field>
            <Field label={t('templates.language')} error={errors.language} htmlFor="tpl-language">
              <input id="tpl-language" dir="ltr" list="tpl-languages" value={form.language} onChange={(e) => set('language', e.target.value)} />
              <datalist id="tpl-languages">
                {commonLanguages.map((l) => (
                  <option key={l} value={l} />
                ))}
              </datalist>
            </Field>
          </div>
          <Field label={t('templates.header')} error={errors.header} htmlFor="tpl-header" hint={t('templates.optional')}>
            <input id="tpl-header" dir="auto" value={form.header} onChange={(e) => set('header', e.target.value)} />
          </Field>
          <Field label={t('templates.body')} error={errors.body} htmlFor="tpl-body" hint={t('templates.bodyHint')}>
            <textarea id="tpl-body" dir="auto" rows={4} value={form.body} onChange={(e) => set('body', e.target.value)} />
          </Field>
          {count > 0 && (
            <fieldset className="items">
              <legend>{t('templates.examples')}</legend>
              {Array.from({ length: count }, (_, i) => (
                <Field key={i} label={`{{${i + 1}}}`} htmlFor={`tpl-example-${i + 1}`} inline>
                  <input
                    id={`tpl-example-${i + 1}`}
                    dir="auto"
                    value={form.examples[i] ?? ''}
                    onChange={(e) => {
                      const examples = [...form.examples];
                      examples[i] = e.target.value;
                      set('examples', examples);
                    }}
                  />
                </Field>
              ))}
              {errors.examples && (
                <small className="field-error" role="alert">
                  {errors.examples}
                </small>
              )}
            </fieldset>
          )}
          <Field label={t('templates.footer')} error={errors.footer} htmlFor="tpl-footer" hint={t('templates.optional')}>
            <input id="tpl-footer" dir="auto" value={form.footer} onChange={(e) => set('footer', e.target.value)} />
          </Field>
          {/* Until the lines are known there is no account to create the template in. */}
          <button type="submit" className="primary" disabled={busy || !loaded}>
            {t('templates.submit')}
          </button>
        </div>
        <div>
          <h4>{t('templates.preview')}</h4>
          <div className="phone-preview">
            <div className="bubble bubble-in" dir="auto">
              {form.header.trim() && <strong className="preview-header">{form.header}</strong>}
              <div className="bubble-text">{filled(form.body, form.examples) || <span className="muted">{t('templates.body')}…</span>}</div>
              {form.footer.trim() && <div className="muted small">{form.footer}</div>}
            </div>
          </div>
        </div>
      </div>
    </form>
  );
}
