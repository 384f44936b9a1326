// Failure modes of several sessions side by side (discovery.compare), matched by class and prompt:
// per session the hypothesis's status, failure rate and q; which modes are shared (confirmed in two
// or more sessions, as Wiles et al. observed across models).
import { useState } from 'react';
import { useApi } from '../../lib/lab.tsx';
import { compareRows, pvalue, ratePct, STATUS_TEXT } from '../../lib/discovery-format.ts';
import { Empty, ErrorBox, Loading } from '../../components/common.tsx';

export function CompareTable({ ids }: { ids: number[] }) {
  const cmp = useApi('discovery.compare', ids.length >= 2 ? { ids } : null, ['discovery']);
  const [sharedOnly, setSharedOnly] = useState(false);
  const c = cmp.data;
  const rows = c ? compareRows(c, sharedOnly) : [];
  const shared = c ? c.rows.filter((r) => r.confirmedIn >= 2).length : 0;
  return (
    <section className="card" data-testid="discovery-comparison">
      <div className="card-title">
        Compare sessions {ids.map((id) => `#${id}`).join(', ')}
        {c ? (
          <span className="count dim" data-testid="compare-summary">
            {c.rows.length} modes, {shared} confirmed in two or more sessions
          </span>
        ) : null}
        <span className="card-tools">
          <label className="disc-toggle">
            <input type="checkbox" checked={sharedOnly} onChange={(e) => setSharedOnly(e.target.checked)} data-testid="compare-shared-only" /> shared only
          </label>
        </span>
      </div>
      <ErrorBox error={cmp.error} onRetry={cmp.reload} testId="compare-error" />
      {c === null && cmp.loading ? <Loading what="the comparison" /> : null}
      {c && rows.length === 0 ? <Empty title={sharedOnly ? 'No mode is confirmed in two or more of these sessions' : 'These sessions have no hypotheses yet'} testId="compare-empty" /> : null}
      {c && rows.length > 0 ? (
        <div className="table-scroll">
          <table className="table" data-testid="compare-table">
            <thead>
              <tr>
                <th>Class</th>
                <th>Prompt</th>
                {c.sessions.map((s) => (
                  <th key={s.id} data-testid="compare-session">
                    <a href={`#/discovery/${s.id}`}>
                      #{s.id} {s.modelName}
                    </a>
                  </th>
                ))}
                <th className="num" title="sessions that confirm the mode">
                  Confirmed in
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.className}\u0000${r.prompt}`} className={r.confirmedIn >= 2 ? 'disc-shared' : undefined} data-testid="compare-row" data-confirmed-in={r.confirmedIn}>
                  <td>{r.className}</td>
                  <td className="wrap">{r.prompt}</td>
                  {r.bySession.map((b, i) => (
                    <td key={c.sessions[i]!.id} data-testid="compare-cell" data-status={b?.status ?? 'absent'}>
                      {b ? (
                        <>
                          <span className={`badge disc-status-${b.status}`}>{STATUS_TEXT[b.status]}</span>{' '}
                          <span className="dim">
                            {ratePct(b.failureRate)}
                            {b.qValue !== null ? ` · q ${pvalue(b.qValue)}` : ''}
                          </span>
                        </>
                      ) : (
                        <span className="dim" title="this session has no such hypothesis">
                          –
                        </span>
                      )}
                    </td>
                  ))}
                  <td className="num strong" data-testid="compare-confirmed-in">
                    {r.confirmedIn} / {c.sessions.length}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
