// A class filter: type a name (with suggestions), a class index, or clear it. Enter applies the
// best match, Esc clears.
import { useEffect, useId, useMemo, useState, type Ref } from 'react';

export interface ClassOption {
  idx: number;
  name: string;
}

interface Props {
  label: string;
  options: ClassOption[];
  value: number | null;
  onChange: (idx: number | null) => void;
  inputRef?: Ref<HTMLInputElement>;
  testId: string;
  placeholder?: string;
}

export function ClassPicker({ label, options, value, onChange, inputRef, testId, placeholder = 'any class' }: Props) {
  const listId = useId();
  const labelOf = useMemo(() => {
    const counts = new Map<string, number>();
    for (const o of options) counts.set(o.name, (counts.get(o.name) ?? 0) + 1);
    return (o: ClassOption) => ((counts.get(o.name) ?? 0) > 1 ? `${o.name} #${o.idx}` : o.name);
  }, [options]);
  const current = value === null ? null : options.find((o) => o.idx === value);
  const shown = value === null ? '' : current ? labelOf(current) : `#${value}`;
  const [text, setText] = useState(shown);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    setText(shown);
    setProblem(null);
  }, [shown]);

  const resolve = (raw: string): number | null | 'none' => {
    const t = raw.trim();
    if (!t) return null;
    const lower = t.toLowerCase();
    const exact = options.find((o) => labelOf(o).toLowerCase() === lower) ?? options.find((o) => o.name.toLowerCase() === lower);
    if (exact) return exact.idx;
    const m = /^#?(\d+)$/.exec(t);
    if (m) return Number(m[1]);
    const prefix = options.filter((o) => o.name.toLowerCase().startsWith(lower));
    if (prefix.length === 1) return prefix[0].idx;
    const sub = options.filter((o) => o.name.toLowerCase().includes(lower));
    if (sub.length === 1) return sub[0].idx;
    return 'none';
  };

  const apply = (raw: string) => {
    const r = resolve(raw);
    if (r === 'none') {
      setProblem(`No single class matches “${raw.trim()}”`);
      return;
    }
    setProblem(null);
    if (r !== value) onChange(r);
    else setText(shown);
  };

  return (
    <label className="field compact class-picker">
      <span className="field-label">{label}</span>
      <span className="input-with-clear">
        <input
          ref={inputRef}
          list={listId}
          value={text}
          placeholder={placeholder}
          data-testid={testId}
          aria-invalid={problem ? true : undefined}
          title={problem ?? ''}
          onChange={(e) => {
            const v = e.target.value;
            setText(v);
            setProblem(null);
            // Picking a suggestion from the list applies it at once.
            const exact = options.find((o) => labelOf(o) === v);
            if (exact && exact.idx !== value) onChange(exact.idx);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              apply(text);
            } else if (e.key === 'Escape') {
              e.preventDefault();
              if (text) {
                setText('');
                if (value !== null) onChange(null);
              } else (e.target as HTMLInputElement).blur();
            }
          }}
          onBlur={() => {
            if (text !== shown) apply(text);
          }}
        />
        {value !== null ? (
          <button type="button" className="clear-btn" aria-label={`Clear ${label}`} onClick={() => onChange(null)}>
            ×
          </button>
        ) : null}
      </span>
      <datalist id={listId}>
        {options.map((o) => (
          <option key={o.idx} value={labelOf(o)} />
        ))}
      </datalist>
      {problem ? <span className="field-error">{problem}</span> : null}
    </label>
  );
}
