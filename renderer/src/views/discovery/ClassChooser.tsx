// The classes a discovery session probes: a filterable list of checkboxes. `null` means all of the
// model's classes (the default, and what is sent); an explicit list otherwise.
import { useMemo, useState } from 'react';
import { num } from '../../lib/format.ts';

interface Props {
  names: string[];
  value: number[] | null;
  onChange: (classes: number[] | null) => void;
}

export function ClassChooser({ names, value, onChange }: Props) {
  const [filter, setFilter] = useState('');
  const chosen = useMemo(() => new Set(value ?? names.map((_, i) => i)), [value, names]);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const all = names.map((name, idx) => ({ idx, name }));
    return f ? all.filter((c) => c.name.toLowerCase().includes(f) || String(c.idx) === f) : all;
  }, [names, filter]);

  const set = (next: Set<number>) => onChange(next.size === names.length ? null : [...next].sort((a, b) => a - b));
  const toggle = (idx: number, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(idx);
    else next.delete(idx);
    set(next);
  };
  const setShown = (on: boolean) => {
    const next = new Set(chosen);
    for (const c of shown) {
      if (on) next.add(c.idx);
      else next.delete(c.idx);
    }
    set(next);
  };

  return (
    <fieldset className="disc-classes" data-testid="discovery-classes">
      <legend>
        Classes{' '}
        <span className="dim" data-testid="discovery-classes-count">
          {value === null ? `all ${num(names.length)}` : `${num(value.length)} of ${num(names.length)}`}
        </span>
      </legend>
      <div className="disc-classes-tools">
        <input type="search" aria-label="Filter classes" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="filter classes" data-testid="discovery-classes-filter" />
        <button type="button" className="btn small" onClick={() => setShown(true)} data-testid="discovery-classes-all">
          {filter.trim() ? 'Select shown' : 'All'}
        </button>
        <button type="button" className="btn small" onClick={() => setShown(false)} data-testid="discovery-classes-none">
          {filter.trim() ? 'Clear shown' : 'None'}
        </button>
        {value !== null && value.length === 0 ? <span className="field-error">choose at least one class</span> : null}
      </div>
      <div className="disc-classes-list" role="group" aria-label="Classes to probe">
        {shown.map((c) => (
          <label key={c.idx} className="disc-class" title={`class ${c.idx}`}>
            <input type="checkbox" checked={chosen.has(c.idx)} onChange={(e) => toggle(c.idx, e.target.checked)} data-testid="discovery-class" data-class={c.idx} />
            <span>{c.name}</span>
          </label>
        ))}
        {shown.length === 0 ? <span className="dim">no class matches “{filter.trim()}”</span> : null}
      </div>
    </fieldset>
  );
}
