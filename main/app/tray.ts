/**
 * The tray icon: counts of active sessions and open review items in its tooltip and menu, a
 * switch for desktop notifications of high-severity flags, and the way back to the window.
 */
import { Menu, Tray, nativeImage } from 'electron';
import type { AttentionCounts } from '../core/attention.js';

export interface TrayOptions {
  iconPath: string;
  open(view?: string): void;
  quit(): void;
  notifications: boolean;
  setNotifications(on: boolean): void;
}

export interface ConsoleTray {
  update(counts: AttentionCounts): void;
  destroy(): void;
}

export function createTray(o: TrayOptions): ConsoleTray {
  const tray = new Tray(nativeImage.createFromPath(o.iconPath).resize({ width: 16, height: 16 }));
  let counts: AttentionCounts = { activeSessions: 0, openReview: 0 };
  let notifications = o.notifications;
  const render = () => {
    const sessions = `${counts.activeSessions} active session${counts.activeSessions === 1 ? '' : 's'}`;
    const review = `${counts.openReview} open review item${counts.openReview === 1 ? '' : 's'}`;
    tray.setToolTip(`Cortex Console — ${sessions}, ${review}`);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Open Cortex Console', click: () => o.open() },
        { type: 'separator' },
        { label: sessions, click: () => o.open('overview') },
        { label: review, click: () => o.open('review') },
        { type: 'separator' },
        {
          label: 'Notify me of high-severity flags',
          type: 'checkbox',
          checked: notifications,
          click: (item) => {
            notifications = item.checked;
            o.setNotifications(item.checked);
          },
        },
        { type: 'separator' },
        { label: 'Quit', click: () => o.quit() },
      ]),
    );
  };
  tray.on('click', () => o.open());
  render();
  return {
    update(next) {
      counts = next;
      render();
    },
    destroy: () => tray.destroy(),
  };
}
