// A sparse, paged view of a long server-side list (tens of thousands of rows): pages are fetched
// when the grid shows them, far-away pages are dropped, and a change of `key` (filters, sort)
// starts over. Nothing ever asks for the whole list.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Page } from '../../../electron/contract.ts';
import type { ApiError } from '../api/index.ts';

export interface PagedList<T> {
  /** null until the first page arrived. */
  total: number | null;
  error: ApiError | null;
  /** Changes whenever a page arrives, so that consumers re-render. */
  version: number;
  get(index: number): T | undefined;
  /** Makes sure the items in [start, end) are loaded or loading. */
  ensure(start: number, end: number): void;
  /** Resolves to the item at `index`, fetching its page if needed. */
  load(index: number): Promise<T | undefined>;
  reload(): void;
  /** Fetches the loaded pages again in place (same key: no jump back to the top). */
  refresh(): Promise<void>;
  key: string;
}

const MAX_PAGES = 80;

export function usePagedList<T>(fetchPage: (offset: number, limit: number) => Promise<Page<T>>, key: string, pageSize = 200): PagedList<T> {
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const [nonce, setNonce] = useState(0);
  const cacheKey = `${key}#${nonce}`;

  const store = useRef({ key: '', pages: new Map<number, T[]>(), inflight: new Map<number, Promise<void>>(), lastPage: 0 });
  const [totalState, setTotal] = useState<{ key: string; total: number } | null>(null);
  const [errorState, setError] = useState<{ key: string; error: ApiError } | null>(null);
  const total = totalState && totalState.key === cacheKey ? totalState.total : null;
  const error = errorState && errorState.key === cacheKey ? errorState.error : null;
  const [version, setVersion] = useState(0);

  const fetchOne = useCallback(
    (pageIdx: number): Promise<void> => {
      const s = store.current;
      const existing = s.inflight.get(pageIdx);
      if (existing) return existing;
      if (s.pages.has(pageIdx)) return Promise.resolve();
      const k = s.key;
      const pr = fetchRef
        .current(pageIdx * pageSize, pageSize)
        .then(
          (page) => {
            if (store.current.key !== k) return;
            s.pages.set(pageIdx, page.items);
            evict(s.pages, s.lastPage);
            setTotal({ key: k, total: page.total });
            setError(null);
            setVersion((v) => v + 1);
          },
          (err) => {
            if (store.current.key !== k) return;
            setError({ key: k, error: err as ApiError });
          },
        )
        .finally(() => {
          if (store.current.key === k) s.inflight.delete(pageIdx);
        });
      s.inflight.set(pageIdx, pr);
      return pr;
    },
    [pageSize],
  );

  // New key: forget everything and fetch the first page (which also tells the total).
  if (store.current.key !== cacheKey) {
    store.current = { key: cacheKey, pages: new Map(), inflight: new Map(), lastPage: 0 };
  }
  useEffect(() => {
    setVersion((v) => v + 1);
    void fetchOne(0);
  }, [cacheKey, fetchOne]);

  const ensure = useCallback(
    (start: number, end: number) => {
      if (end <= start) return;
      const first = Math.floor(start / pageSize);
      const last = Math.floor((end - 1) / pageSize);
      store.current.lastPage = first;
      for (let p = first; p <= last; p++) void fetchOne(p);
    },
    [fetchOne, pageSize],
  );

  const get = useCallback(
    (index: number): T | undefined => store.current.pages.get(Math.floor(index / pageSize))?.[index % pageSize],
    [pageSize, version, cacheKey],
  );

  const load = useCallback(
    async (index: number): Promise<T | undefined> => {
      const p = Math.floor(index / pageSize);
      await fetchOne(p);
      return store.current.pages.get(p)?.[index % pageSize];
    },
    [fetchOne, pageSize],
  );

  const reload = useCallback(() => setNonce((n) => n + 1), []);

  const refresh = useCallback(async () => {
    const s = store.current;
    const k = s.key;
    const loaded = [...s.pages.keys()];
    try {
      const pages = await Promise.all(loaded.map((p) => fetchRef.current(p * pageSize, pageSize)));
      if (store.current.key !== k) return;
      loaded.forEach((p, i) => s.pages.set(p, pages[i]!.items));
      if (pages.length) setTotal({ key: k, total: pages[0]!.total });
      setError(null);
      setVersion((v) => v + 1);
    } catch (err) {
      if (store.current.key === k) setError({ key: k, error: err as ApiError });
    }
  }, [pageSize]);

  return useMemo(
    () => ({ total, error, version, get, ensure, load, reload, refresh, key: cacheKey }),
    [total, error, version, get, ensure, load, reload, refresh, cacheKey],
  );
}

function evict<T>(pages: Map<number, T[]>, around: number): void {
  if (pages.size <= MAX_PAGES) return;
  const far = [...pages.keys()].sort((a, b) => Math.abs(b - around) - Math.abs(a - around));
  for (const p of far.slice(0, pages.size - MAX_PAGES)) pages.delete(p);
}
