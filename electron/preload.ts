// Preload (sandboxed, bundled to CommonJS): exposes one function per API method and the event
// stream, nothing else. The main process validates every payload again.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { methodNames } from './contract-names.ts';
import type { ApiEvent } from './contract.ts';

const api: Record<string, (params: unknown) => Promise<unknown>> = {};
for (const method of methodNames) {
  api[method] = async (params: unknown) => {
    const reply = (await ipcRenderer.invoke('factorlab:api', method, params)) as { ok: boolean; result?: unknown; error?: { code: string; message: string } };
    // contextBridge carries an Error's message but not extra properties: the code goes in front.
    if (!reply.ok) throw new Error(`${reply.error?.code ?? 'internal'}: ${reply.error?.message ?? 'call failed'}`);
    return reply.result;
  };
}

contextBridge.exposeInMainWorld('factorlab', {
  api,
  imageBase: 'lab://images/',
  onEvent(listener: (event: ApiEvent) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, event: ApiEvent) => listener(event);
    ipcRenderer.on('factorlab:event', wrapped);
    return () => ipcRenderer.removeListener('factorlab:event', wrapped);
  },
});
