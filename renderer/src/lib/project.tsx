import { createContext, useContext, useState, type ReactNode } from 'react';

const STORAGE = 'cortex.projectId';

interface ProjectState {
  projectId: string;
  /** `/api/projects/{projectId}`: the prefix of every project route. */
  base: string;
  setProjectId(id: string): void;
}

const ProjectContext = createContext<ProjectState | null>(null);

function stored(): string {
  try {
    return window.localStorage.getItem(STORAGE) || 'default';
  } catch {
    return 'default';
  }
}

/** The project the console shows (switchable in Settings; remembered per browser/app). */
export function ProjectProvider({ children }: { children: ReactNode }) {
  const [projectId, setId] = useState(stored);
  const value: ProjectState = {
    projectId,
    base: `/api/projects/${encodeURIComponent(projectId)}`,
    setProjectId(id) {
      try {
        window.localStorage.setItem(STORAGE, id);
      } catch {
        // storage disabled: the choice lasts for this page only
      }
      setId(id);
    },
  };
  return <ProjectContext.Provider value={value}>{children}</ProjectContext.Provider>;
}

export function useProject(): ProjectState {
  const p = useContext(ProjectContext);
  if (!p) throw new Error('useProject() used outside <ProjectProvider>');
  return p;
}
