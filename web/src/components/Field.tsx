import type { ReactNode } from 'react';

/** A labelled form control with its validation message under it. */
export function Field({ label, error, hint, children, htmlFor, inline }: { label: string; error?: string; hint?: string; children: ReactNode; htmlFor?: string; inline?: boolean }) {
  return (
    <div className={`field${inline ? ' field-inline' : ''}${error ? ' field-invalid' : ''}`}>
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint && !error && <small className="hint">{hint}</small>}
      {error && (
        <small className="field-error" role="alert" dir="auto">
          {error}
        </small>
      )}
    </div>
  );
}
