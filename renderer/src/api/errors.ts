import type { ApiErrorShape, Method } from '../../../electron/contract.ts';

/** Codes from the API, plus the two the client itself produces. */
export type ErrorCode = ApiErrorShape['code'] | 'disconnected' | 'unavailable';

const API_CODES: readonly string[] = ['invalid_params', 'not_found', 'bad_input', 'internal'];

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly method: Method | null;

  constructor(code: ErrorCode, message: string, method: Method | null = null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.method = method;
  }
}

/** Turns whatever a transport threw into an ApiError, keeping the server's code and message. */
export function toApiError(err: unknown, method: Method | null): ApiError {
  if (err instanceof ApiError) return err;
  if (isErrorShape(err)) return new ApiError(err.code, err.message, method);
  if (err instanceof Error) {
    const coded = err as Error & { code?: unknown };
    if (typeof coded.code === 'string' && API_CODES.includes(coded.code)) {
      return new ApiError(coded.code as ErrorCode, stripIpcPrefix(err.message), method);
    }
    // The preload rejects with `new Error("<code>: <message>")` (contextBridge carries the message
    // only). Older bridges wrapped it: "Error invoking remote method 'x': Error: <code>: <message>".
    const msg = stripIpcPrefix(err.message);
    const m = CODED_MESSAGE.exec(msg);
    if (m) return new ApiError(m[1] as ErrorCode, m[2], method);
    return new ApiError('internal', msg, method);
  }
  return new ApiError('internal', String(err), method);
}

function isErrorShape(v: unknown): v is ApiErrorShape {
  return (
    typeof v === 'object' && v !== null &&
    typeof (v as ApiErrorShape).code === 'string' && API_CODES.includes((v as ApiErrorShape).code) &&
    typeof (v as ApiErrorShape).message === 'string'
  );
}

/** `"<code>: <message>"`, the preload's rejection message. */
const CODED_MESSAGE = new RegExp(`^(${API_CODES.join('|')}): ([\\s\\S]*)$`);

function stripIpcPrefix(message: string): string {
  return message
    .replace(/^Error invoking remote method '[^']*':\s*/, '')
    .replace(/^(Uncaught\s+)?(\w*Error):\s*/, '');
}

const CODE_LABEL: Record<ErrorCode, string> = {
  invalid_params: 'Invalid request',
  not_found: 'Not found',
  bad_input: 'Bad input',
  internal: 'Internal error',
  disconnected: 'Disconnected',
  unavailable: 'Unavailable',
};

/** One line for a person: "Bad input: /x is not a folder". */
export function describeError(err: unknown): string {
  const e = err instanceof ApiError ? err : toApiError(err, null);
  return `${CODE_LABEL[e.code]}: ${e.message}`;
}
