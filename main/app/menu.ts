/** The application menu: standard roles, the views a moderator jumps to, and where scripts connect. */
import { Menu, shell, type MenuItemConstructorOptions } from 'electron';

export interface MenuOptions {
  open(view: string): void;
  /** The REST API's base URL once it listens (for the Help menu). */
  apiUrl(): string | null;
  devTools: boolean;
}

export function installMenu(o: MenuOptions): void {
  const go = (label: string, view: string, accelerator: string): MenuItemConstructorOptions => ({ label, accelerator, click: () => o.open(view) });
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'Go',
      submenu: [
        go('Overview', 'overview', 'CmdOrCtrl+1'),
        go('Sessions', 'sessions', 'CmdOrCtrl+2'),
        go('Review queue', 'review', 'CmdOrCtrl+3'),
        go('Participants', 'participants', 'CmdOrCtrl+4'),
        go('Sanctions', 'sanctions', 'CmdOrCtrl+5'),
        go('Settings', 'settings', 'CmdOrCtrl+,'),
      ],
    },
    {
      label: 'View',
      submenu: [
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(o.devTools ? [{ role: 'toggleDevTools' as const }] : []),
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        {
          label: 'REST API reference (OpenAPI)',
          click: () => {
            const url = o.apiUrl();
            // Only our own loopback API: never a URL that came from content.
            if (url && /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(url)) void shell.openExternal(`${url}/api/openapi.json`);
          },
        },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
