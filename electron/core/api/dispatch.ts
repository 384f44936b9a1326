import { paramsSchemas, type ApiErrorShape, type Method } from '../../contract.ts';
import type { Handlers } from './handlers.ts';
import { toApiError } from './errors.ts';

export type DispatchResult = { ok: true; result: unknown } | { ok: false; error: ApiErrorShape };

/** The single entry for every API call from either transport: validates, then runs the handler. */
export async function dispatch(handlers: Handlers, method: unknown, rawParams: unknown): Promise<DispatchResult> {
  if (typeof method !== 'string' || !Object.hasOwn(paramsSchemas, method)) {
    return { ok: false, error: { code: 'invalid_params', message: `unknown method: ${String(method)}` } };
  }
  const m = method as Method;
  const parsed = paramsSchemas[m].safeParse(rawParams ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'invalid_params', message: `${m}: ${detail}` } };
  }
  try {
    const result = await (handlers[m] as (p: unknown) => unknown)(parsed.data);
    return { ok: true, result };
  } catch (err) {
    return { ok: false, error: toApiError(err) };
  }
}
