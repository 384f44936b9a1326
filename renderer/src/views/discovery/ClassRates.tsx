// Step 1 of the loop, per class: the base images generated from "a photo of a {class}", how many CLIP
// ranked as the class (the others count nowhere), how many of those the model got wrong, and the base
// failure rate every hypothesis of the class is tested against.
import type { DiscoveryClassRow } from '../../../../electron/contract.ts';
import { num } from '../../lib/format.ts';
import { ratePct } from '../../lib/discovery-format.ts';
import { Bar } from '../../components/common.tsx';

export function ClassRates({ classes, filterRank, n }: { classes: DiscoveryClassRow[]; filterRank: number; n: number }) {
  const failures = classes.reduce((n, c) => n + c.failures, 0);
  const images = classes.reduce((n, c) => n + c.images, 0);
  return (
    <section className="card disc-classes-card" data-testid="discovery-class-rates">
      <div className="card-title">
        Base failure rate per class
        <span className="count dim">
          {num(failures)} failures of {num(images)} counted images ({ratePct(images ? failures / images : null)})
        </span>
      </div>
      <div className="table-scroll disc-scroll">
        <table className="table compact">
          <thead>
            <tr>
              <th>Class</th>
              <th className="num" title={filterRank ? `images CLIP ranks as the class in its top ${filterRank} (off-class in brackets)` : 'classified images'}>
                Images
              </th>
              <th className="num">Failures</th>
              <th>Failure rate</th>
            </tr>
          </thead>
          <tbody>
            {classes.map((c) => (
              <tr key={c.classIdx} data-testid="discovery-class-row" data-class={c.classIdx}>
                <td data-testid="discovery-class-name">{c.name}</td>
                <td className="num">
                  {num(c.images)}
                  {c.offClass ? <span className="dim" title="off-class: not counted"> ({num(c.offClass)})</span> : null}
                  {c.generated < n ? <span className="dim" title="generated so far"> · {num(c.generated)}/{num(n)} made</span> : null}
                </td>
                <td className="num">{num(c.failures)}</td>
                <td>
                  <span className="acc-cell">
                    <Bar value={c.failureRate ?? 0} tone={c.failureRate === null ? 'muted' : 'bad'} />
                    <span className="acc-value" data-testid="discovery-class-rate">
                      {ratePct(c.failureRate)}
                    </span>
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
