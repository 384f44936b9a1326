import type { ApiErrorShape } from '../../contract.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { JobNotFoundError } from '../jobs/job-queue.ts';
import { DatasetInputError } from '../datasets/import-dataset.ts';

/** Errors a user can act on carry their own message; anything else is reported as internal. */
export function toApiError(err: unknown): ApiErrorShape {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof NotFoundError || err instanceof JobNotFoundError) return { code: 'not_found', message };
  if (err instanceof BadInputError || err instanceof DatasetInputError || isNamed(err, ['ModelPackageError', 'ImageDecodeError', 'OnnxFormatError', 'ClassifierInspectError', 'LabelsError', 'PreprocessFileError'])) {
    return { code: 'bad_input', message };
  }
  return { code: 'internal', message };
}

function isNamed(err: unknown, names: string[]): boolean {
  return err instanceof Error && names.includes(err.constructor.name);
}
