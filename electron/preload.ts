// Preload (sandboxed, bundled to CommonJS): exposes one function per API method and the event
// stream, nothing else. The main process validates every payload again.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { methodNames, type ApiEvent } from './contract.ts';

const api: Record<string, (params: unknown) => Promise<unknown>> = {};
for (const method of methodNames) {
  api[method] = async (params: unknown) => {
    const reply = (await ipcRenderer.invoke('factorlab:api', method, params)) as { ok: boolean; result?: unknown; error?: { code: string; message: string } };
    if (!reply.ok) throw Object.assign(new Error(reply.error?.message ?? 'call failed'), { code: reply.error?.code });
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
