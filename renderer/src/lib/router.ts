// A small hash router: #/datasets, #/datasets/3, #/models, #/runs, #/runs/5?true=2&pred=7, #/jobs.
// Hash routes work the same under file:// (Electron) and http:// (serve mode).
import { useEffect, useState } from 'react';

export interface Route {
  path: string[];
  query: URLSearchParams;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [p, q = ''] = raw.split('?', 2);
  const path = p.split('/').filter(Boolean).map(decodeURIComponent);
  return { path: path.length ? path : ['datasets'], query: new URLSearchParams(q) };
}

export function format(path: (string | number)[], query?: Record<string, string | number | null | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== null && v !== undefined && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return `#/${path.map((x) => encodeURIComponent(String(x))).join('/')}${s ? `?${s}` : ''}`;
}

const listeners = new Set<() => void>();
window.addEventListener('hashchange', () => listeners.forEach((l) => l()));

export function navigate(hash: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) {
    window.history.replaceState(window.history.state, '', hash);
    listeners.forEach((l) => l());
  } else {
    window.location.hash = hash;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const l = () => setRoute(parse(window.location.hash));
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return route;
}
