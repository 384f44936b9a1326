// The Electron transport: the preload exposes one function per API method through contextBridge.
import type { ApiEvent, Method, ParamsIn, Results } from '../../../electron/contract.ts';
import { imagePath, methodNames } from '../../../electron/contract-names.ts';
import { ApiError, toApiError } from './errors.ts';
import type { ConnectionState, LabClient } from './types.ts';

export interface PreloadBridge {
  api: { [M in Method]?: (params: ParamsIn<M>) => Promise<Results[M]> };
  onEvent(listener: (event: ApiEvent) => void): () => void;
  imageBase: string;
}

declare global {
  interface Window {
    factorlab?: PreloadBridge;
  }
}

export function createElectronClient(bridge: PreloadBridge): LabClient {
  const missing = methodNames.filter((m) => typeof bridge.api[m] !== 'function');
  if (missing.length) console.warn(`FactorLab: the preload does not expose ${missing.join(', ')}`);
  const base = bridge.imageBase.endsWith('/') ? bridge.imageBase : `${bridge.imageBase}/`;
  const state: ConnectionState = { status: 'open', attempt: 0, detail: null };

  return {
    transport: 'electron',
    async call<M extends Method>(method: M, params: ParamsIn<M>): Promise<Results[M]> {
      const fn = bridge.api[method] as ((p: ParamsIn<M>) => Promise<Results[M]>) | undefined;
      if (typeof fn !== 'function') throw new ApiError('unavailable', `${method} is not exposed by this build of FactorLab`, method);
      try {
        return await fn(params ?? ({} as ParamsIn<M>));
      } catch (err) {
        throw toApiError(err, method);
      }
    },
    onEvent: (listener) => bridge.onEvent(listener),
    imageUrl: (kind, imageId) => `${base}${imagePath(kind, imageId)}`,
    connection: () => state,
    onConnection: () => () => {},
    reconnectNow: () => {},
    close: () => {},
  };
}
