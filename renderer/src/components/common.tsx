import type { ReactNode } from 'react';
import { describeError } from '../api/index.ts';
import { useLab } from '../lib/lab.tsx';

export function ErrorBox({ error, onRetry, testId = 'error' }: { error: unknown; onRetry?: () => void; testId?: string }) {
  if (!error) return null;
  return (
    <div className="error-box" role="alert" data-testid={testId}>
      <span>{describeError(error)}</span>
      {onRetry ? (
        <button type="button" className="btn small" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ title, children, testId }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="empty" data-testid={testId}>
      <div className="empty-title">{title}</div>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <div className="loading">Loading {what}…</div>;
}

/** A horizontal bar: `value` in [0, 1]. */
export function Bar({ value, tone = 'accent' }: { value: number; tone?: 'accent' | 'good' | 'bad' | 'warn' | 'muted' }) {
  const w = Math.max(0, Math.min(1, Number.isFinite(value) ? value : 0));
  return (
    <span className={`bar bar-${tone}`}>
      <span className="bar-fill" style={{ width: `${(w * 100).toFixed(2)}%` }} />
    </span>
  );
}

export function accuracyTone(a: number | null): 'good' | 'warn' | 'bad' | 'muted' {
  if (a === null) return 'muted';
  return a >= 0.8 ? 'good' : a >= 0.5 ? 'warn' : 'bad';
}

export function Toasts() {
  const { toasts, dismiss } = useLab();
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} data-testid={`toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          <span className="toast-text">{t.text}</span>
          <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function PageHeader({ title, sub, children }: { title: ReactNode; sub?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-header">
      <div className="page-title-block">
        <h1 className="page-title">{title}</h1>
        {sub ? <div className="page-sub">{sub}</div> : null}
      </div>
      <div className="page-actions">{children}</div>
    </header>
  );
}

export function Field({ label, hint, children }: { label: string; hint?: string; children: ReactNode }) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
      {hint ? <span className="field-hint">{hint}</span> : null}
    </label>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}
