// `factorlab imagenetx error-ratios`: per-factor error ratios and calibration of models given as
// prediction files against an ImageNet-X annotation file. Needs no lab and no images.
// electron/cli.ts registers it; the logic is in core/imagenetx/evaluate-predictions.ts.
import type { ParseArgsConfig } from 'node:util';
import { BadInputError } from '../core/errors.ts';
import { evaluateFiles, evaluationJson, parseModelSpec, type ModelEvaluation } from '../core/imagenetx/evaluate-predictions.ts';

export const errorRatiosSummary = 'per-factor accuracy, error ratio and calibration (ECE) of prediction CSVs against an ImageNet-X annotation file (no lab needed)';

export const errorRatiosUsage =
  'factorlab imagenetx error-ratios --annotations F.jsonl [--prototypes prototypical_paths.csv | --no-prototype-filter]\n' +
  '    [--metaclasses imagenet_1k_classes_to_100_metaclasses.csv --error-type class|metaclass]\n' +
  '    --predictions NAME=FILE.csv [--predictions NAME=FILE.csv ...] [--allow-missing] [--json]\n' +
  '  Prediction files: CSV file_name,predicted_class,predicted_probability (the ImageNet-X toolkit format).\n' +
  '  Prototypical images are left out (the toolkit default): --prototypes names the list; --no-prototype-filter keeps them.\n' +
  '  error ratio = (1 - accuracy_f) / (1 - average); ECE: 15 bins, as the toolkit computes it.\n' +
  '  An annotated image without a prediction is an error unless --allow-missing (the toolkit inner-joins silently).\n' +
  '  Bad input (a bad line in any file, missing predictions): exit 2, nothing evaluated.';

export const errorRatiosOptions = {
  annotations: { type: 'string' },
  prototypes: { type: 'string' },
  'no-prototype-filter': { type: 'boolean', default: false },
  metaclasses: { type: 'string' },
  'error-type': { type: 'string', default: 'class' },
  predictions: { type: 'string', multiple: true },
  'allow-missing': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

/** Thrown for a bad command line: cli.ts prints the usage and exits 2. */
export class ErrorRatiosUsageError extends Error {}

function fmt(x: number | null, digits: number): string {
  return x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(digits);
}

/** Factors as rows, models as columns: error ratio (and accuracy) per cell. */
export function errorRatiosTable(evals: ModelEvaluation[], settings: { errorType: string; prototypeFilter: boolean }): string {
  const factors = evals[0].factors.map((f) => f.factor);
  const colW = Math.max(16, ...evals.map((e) => e.name.length + 2));
  const head = (label: string) => label.padEnd(22);
  const cell = (s: string) => s.padStart(colW);
  const lines = [
    `error type ${settings.errorType}; prototypical images ${settings.prototypeFilter ? 'left out' : 'kept'}; cells: error ratio (accuracy, count)`,
    head('') + evals.map((e) => cell(e.name)).join(''),
    head('evaluated') + evals.map((e) => cell(String(e.images))).join(''),
    head('average accuracy') + evals.map((e) => cell(fmt(e.average, 4))).join(''),
    head('worst factor acc') + evals.map((e) => cell(fmt(e.worstFactorAccuracy, 4))).join(''),
    head('ECE (all)') + evals.map((e) => cell(fmt(e.calibration.average.ece, 4))).join(''),
    '-'.repeat(22 + colW * evals.length),
  ];
  for (const [k, f] of factors.entries())
    lines.push(
      head(f) +
        evals
          .map((e) => {
            const s = e.factors[k];
            return cell(s.count ? `${fmt(s.errorRatio, 3)} (${fmt(s.accuracy, 2)}, ${s.count})` : 'n/a (0)');
          })
          .join(''),
    );
  lines.push('-'.repeat(22 + colW * evals.length));
  for (const [k, f] of factors.entries()) lines.push(head(`ECE ${f}`) + evals.map((e) => cell(fmt(e.calibration.factors[f].ece, 4))).join(''));
  const notes = evals.filter((e) => e.missing || e.unannotated).map((e) => `  ${e.name}: ${e.unannotated} predictions without a (non-prototypical) annotation ignored${e.missing ? `, ${e.missing} annotated images without prediction dropped` : ''}`);
  return [...lines, ...notes].join('\n');
}

/** Runs the command; returns the exit code. Bad input throws BadInputError (exit 2 in cli.ts). */
export async function runErrorRatios(v: Record<string, string | boolean | string[] | undefined>, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  if (!v.annotations) throw new ErrorRatiosUsageError('--annotations is required');
  const specs = (v.predictions as string[] | undefined) ?? [];
  if (specs.length === 0) throw new ErrorRatiosUsageError('at least one --predictions NAME=FILE is required');
  const noFilter = Boolean(v['no-prototype-filter']);
  if (noFilter && v.prototypes) throw new ErrorRatiosUsageError('--prototypes and --no-prototype-filter exclude each other');
  if (!noFilter && !v.prototypes) throw new ErrorRatiosUsageError('the prototypical images are left out by default, as the toolkit does: give the list with --prototypes prototypical_paths.csv, or pass --no-prototype-filter');
  const errorType = v['error-type'];
  if (errorType !== 'class' && errorType !== 'metaclass') throw new ErrorRatiosUsageError(`--error-type must be class or metaclass, got ${String(errorType)}`);
  if (errorType === 'metaclass' && !v.metaclasses) throw new ErrorRatiosUsageError('--error-type metaclass needs --metaclasses imagenet_1k_classes_to_100_metaclasses.csv');
  const models = specs.map(parseModelSpec);
  for (const m of models) if (!m.name || !m.file) throw new ErrorRatiosUsageError(`--predictions wants NAME=FILE, got ${JSON.stringify(m.name ? m.name + '=' : m.file)}`);
  const evals = evaluateFiles({
    annotations: String(v.annotations),
    prototypesFile: noFilter ? null : String(v.prototypes),
    metaclassesFile: v.metaclasses ? String(v.metaclasses) : null,
    errorType,
    allowMissing: Boolean(v['allow-missing']),
    models,
  });
  const settings = { errorType, prototypeFilter: !noFilter };
  if (v.json) out(`${JSON.stringify(evaluationJson(evals, { error_type: errorType, prototype_filter: !noFilter, annotations: String(v.annotations), ece_bins: 15 }))}\n`);
  else out(`${errorRatiosTable(evals, settings)}\n`);
  return 0;
}

export { BadInputError };
