// `factorlab convert-fp16`: a classifier or CLIP package converted to fp16 (electron/cli.ts registers
// the command; the work is in native-models/convert/convert-package.ts).
import type { PackageConversionReport } from '../../native-models/convert/convert-package.ts';

export const convertFp16Summary = 'convert a classifier or CLIP package to fp16 weights and compute (float32 inputs and outputs kept; checked against the original)';

export const convertFp16Usage =
  'factorlab convert-fp16 --model PACKAGE_DIR --out DIR [--images DIR] [--max-rel-error 0.01] [--overwrite] [--json]\n' +
  '  Half the size, and on CUDA / WebGPU about 1.5-2x the images per second. Values that would overflow fp16 on the check\n' +
  '  inputs, shape arithmetic and a classifier\'s head stay float32. The original and the converted model run on the CPU\n' +
  '  on up to 16 images from --images (else seeded noise) and the conversion is refused when an output differs by more\n' +
  '  than --max-rel-error (relative L2) or a classifier\'s top-1 class changes on more than 2% of them. Import the new\n' +
  '  folder as any package.';

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

export function convertFp16Text(r: PackageConversionReport, out: string): string {
  const lines = [`fp16 ${r.kind} package: ${out}`, `  checked on ${r.checkedOn}`];
  for (const f of r.files) {
    const kept = Object.entries(f.graph.keptFp32).map(([why, n]) => `${n} ${why}`).join('; ');
    lines.push(`  ${f.file}: ${mb(f.bytesBefore)} -> ${mb(f.bytesAfter)}; ${f.graph.fp16Nodes} nodes in fp16, ${f.graph.fp32Nodes} in float32${kept ? ` (${kept})` : ''}`);
    for (const o of f.outputs) lines.push(`    ${o.output}: relative error ${(100 * o.relError).toFixed(3)}%, max abs ${o.maxAbsError.toPrecision(3)}`);
  }
  if (r.top1Changes !== null) lines.push(`  top-1 class changed on ${r.top1Changes} of ${r.checkImages} check images`);
  return lines.join('\n');
}
