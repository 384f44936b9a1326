// Electron entry (thin): window, menu, lab:// image protocol, IPC wiring. Everything else is core/.
import { app, BrowserWindow, ipcMain, Menu, protocol, session, shell, type IpcMainInvokeEvent } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from './core/lab.ts';
import { createHandlers } from './core/api/handlers.ts';
import { dispatch } from './core/api/dispatch.ts';
import { imageForRoute } from './core/api/image-route.ts';
import { CONTENT_SECURITY_POLICY } from './security.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const rendererIndex = join(here, '..', 'renderer', 'index.html');

protocol.registerSchemesAsPrivileged([{ scheme: 'lab', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

function labDirFromArgs(): string {
  const i = process.argv.indexOf('--lab');
  if (i > 0 && process.argv[i + 1]) return process.argv[i + 1];
  return process.env.FACTORLAB_LAB ?? join(app.getPath('userData'), 'lab');
}

let mainWindow: BrowserWindow | null = null;

function isOwnFrame(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  return mainWindow !== null && event.sender === mainWindow.webContents && url.startsWith('file://');
}

async function start(): Promise<void> {
  await app.whenReady();
  const lab = Lab.open(labDirFromArgs());
  const handlers = createHandlers(lab);

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  protocol.handle('lab', async (request) => {
    const url = new URL(request.url);
    if (url.hostname !== 'images') return new Response('not found', { status: 404 });
    const r = await imageForRoute(lab, url.pathname.replace(/^\//, ''));
    return new Response(new Uint8Array(typeof r.body === 'string' ? Buffer.from(r.body) : r.body), { status: r.status, headers: { 'content-type': r.type } });
  });

  ipcMain.handle('factorlab:api', async (event, method: unknown, params: unknown) => {
    if (!isOwnFrame(event)) return { ok: false, error: { code: 'invalid_params', message: 'call from an unknown frame refused' } };
    return dispatch(handlers, method, params);
  });
  lab.events.on('event', (e) => mainWindow?.webContents.send('factorlab:event', e));

  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      { role: 'fileMenu' },
      { role: 'editMenu' },
      { role: 'viewMenu' },
      { role: 'windowMenu' },
      { role: 'help', submenu: [{ label: `Lab folder: ${lab.dir}`, click: () => void shell.openPath(lab.dir) }] },
    ]),
  );

  mainWindow = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'FactorLab',
    webPreferences: {
      preload: join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  mainWindow.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  mainWindow.webContents.on('will-navigate', (e) => e.preventDefault());
  await mainWindow.loadFile(rendererIndex);

  app.on('window-all-closed', () => {
    lab.close();
    app.quit();
  });
}

start().catch((e) => {
  console.error(`FactorLab could not start: ${(e as Error).message}`);
  app.exit(1);
});
