import type { ReactNode } from 'react';
import { NotBuilt } from './components/NotBuilt.js';
import { SessionsView } from './features/sessions/SessionsView.js';
import type { Route } from './lib/router.js';

export interface View {
  /** First path segment: `#/<id>/…`. */
  id: string;
  label: string;
  render(route: Route): ReactNode;
}

/** Every view, in navigation order. Each feature registers its screen here. */
export const VIEWS: readonly View[] = [
  { id: 'overview', label: 'Overview', render: () => <NotBuilt title="Overview" /> },
  { id: 'sessions', label: 'Sessions', render: () => <SessionsView /> },
  { id: 'review', label: 'Review queue', render: () => <NotBuilt title="Review queue" /> },
  { id: 'participants', label: 'Participants', render: () => <NotBuilt title="Participants" /> },
  { id: 'sanctions', label: 'Sanctions', render: () => <NotBuilt title="Sanctions" /> },
  { id: 'gatherings', label: 'Gatherings', render: () => <NotBuilt title="Gatherings" /> },
  { id: 'plugins', label: 'Plugins', render: () => <NotBuilt title="Plugins" /> },
  { id: 'automod', label: 'Automod rules', render: () => <NotBuilt title="Automod rules" /> },
  { id: 'webhooks', label: 'Webhooks', render: () => <NotBuilt title="Webhooks" /> },
  { id: 'topics', label: 'Topics', render: () => <NotBuilt title="Topics" /> },
  { id: 'models', label: 'Models', render: () => <NotBuilt title="Models" /> },
  { id: 'settings', label: 'Settings', render: () => <NotBuilt title="Settings" /> },
];

/** Where `#` and unknown paths land. */
export const DEFAULT_VIEW = 'sessions';
