import type { ReactNode } from 'react';
import { AutomodView } from './features/automod/AutomodView.js';
import { PluginsView } from './features/plugins/PluginsView.js';
import { SessionsView } from './features/sessions/SessionsView.js';
import { WebhooksView } from './features/webhooks/WebhooksView.js';
import { OverviewView } from './features/overview/OverviewView.js';
import { ModelsView } from './features/models/ModelsView.js';
import { SettingsView } from './features/settings/SettingsView.js';
import { TopicsView } from './features/topics/TopicsView.js';
import { GatheringsView } from './features/gatherings/GatheringsView.js';
import { ParticipantsView } from './features/participants/ParticipantsView.js';
import { ReviewView } from './features/review/ReviewView.js';
import { SanctionsView } from './features/sanctions/SanctionsView.js';
import type { Route } from './lib/router.js';

export interface View {
  /** First path segment: `#/<id>/…`. */
  id: string;
  label: string;
  render(route: Route): ReactNode;
}

/** Every view, in navigation order. Each feature registers its screen here. */
export const VIEWS: readonly View[] = [
  { id: 'overview', label: 'Overview', render: () => <OverviewView /> },
  { id: 'sessions', label: 'Sessions', render: (route) => <SessionsView route={route} /> },
  { id: 'review', label: 'Review queue', render: () => <ReviewView /> },
  { id: 'participants', label: 'Participants', render: (route) => <ParticipantsView route={route} /> },
  { id: 'sanctions', label: 'Sanctions', render: (route) => <SanctionsView route={route} /> },
  { id: 'gatherings', label: 'Gatherings', render: (route) => <GatheringsView route={route} /> },
  { id: 'plugins', label: 'Plugins', render: (route) => <PluginsView route={route} /> },
  { id: 'automod', label: 'Automod rules', render: (route) => <AutomodView route={route} /> },
  { id: 'webhooks', label: 'Webhooks', render: (route) => <WebhooksView route={route} /> },
  { id: 'topics', label: 'Topics', render: () => <TopicsView /> },
  { id: 'models', label: 'Models', render: () => <ModelsView /> },
  { id: 'settings', label: 'Settings', render: () => <SettingsView /> },
];

/** Where `#` and unknown paths land. */
export const DEFAULT_VIEW = 'overview';
