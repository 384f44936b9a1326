// A discovery image as a thumbnail button: failures framed red with the wrong prediction, images CLIP
// did not rank as the prompted class dimmed (they count in no rate).
import type { DiscoveryImageRow } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';

export function DiscThumb({ image, label, onOpen }: { image: DiscoveryImageRow | { id: number }; label: string; onOpen: () => void }) {
  const { client } = useLab();
  const row = 'prompt' in image ? image : null;
  const state = row?.failed ? 'failure' : row?.failed === false ? 'correct' : 'unknown';
  const off = row?.onClass === false;
  return (
    <button
      type="button"
      className={`thumb disc-thumb disc-${state}${off ? ' disc-off' : ''}`}
      onClick={onOpen}
      aria-label={`${label}${row?.failed ? `: misclassified as ${row.predName ?? '?'}` : row?.failed === false ? ': classified correctly' : ''}${off ? ' (off-class, not counted)' : ''}`}
      data-testid="discovery-thumb"
      data-id={image.id}
      data-failed={row ? String(row.failed) : undefined}
      title={row?.description ?? row?.prompt ?? ''}
    >
      <img src={client.imageUrl('disc', image.id)} alt="" loading="lazy" />
      {row ? (
        <span className={`thumb-caption ${row.failed ? 'bad' : 'dim'}`}>
          {row.failed ? `✗ ${row.predName ?? '?'}` : row.failed === false ? `✓ ${row.predName ?? ''}` : '…'}
          {off ? ' · off' : ''}
        </span>
      ) : null}
    </button>
  );
}
