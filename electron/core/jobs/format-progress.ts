import type { JobInfo } from '../../contract.ts';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line for a terminal: title, bar, counts, rate and ETA (each only when measured). */
export function formatJobLine(job: JobInfo): string {
  const frac = job.total > 0 ? job.done / job.total : 0;
  const width = 24;
  const filled = Math.round(frac * width);
  const bar = job.total > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
  const counts = job.total > 0 ? `${job.done}/${job.total} ` : '';
  const rate = job.rate !== null ? `${job.rate.toFixed(1)}/s ` : '';
  const eta = job.etaSeconds !== null && job.status === 'running' ? `ETA ${formatDuration(job.etaSeconds)} ` : '';
  const status = job.status === 'running' ? '' : `${job.status} `;
  return `${job.title}: ${bar}${counts}${rate}${eta}${status}${job.message && job.status !== 'running' ? job.message : ''}`.trimEnd();
}
