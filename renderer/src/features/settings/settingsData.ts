/** Query keys of the settings view (the overview reads the server settings too). */
export const serverSettingsKey = ['settings', 'server'] as const;
export const projectsKey = ['settings', 'projects'] as const;
export const keysKey = ['settings', 'keys'] as const;
export const botSettingsKey = (projectId: string) => ['settings', projectId, 'bot'] as const;
