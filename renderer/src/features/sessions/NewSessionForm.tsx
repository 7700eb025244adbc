import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { Session } from '../../../../common/schemas.js';
import { useCortex } from '../../lib/cortex-context.js';
import { sessionsPath, sessionsQueryKey, upsertSession, type SessionPage } from './sessionsCache.js';

export function NewSessionForm() {
  const { client } = useCortex();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState('');

  const create = useMutation({
    mutationFn: (t: string) => client.request<Session>('POST', sessionsPath, { title: t }),
    onSuccess: (session) => {
      setTitle('');
      // The session.created event will do the same; applying it now avoids waiting for it.
      queryClient.setQueryData<SessionPage>(sessionsQueryKey, (page) => page && upsertSession(page, session));
    },
  });

  function submit(e: FormEvent<HTMLFormElement>): void {
    e.preventDefault();
    const t = title.trim();
    if (t) create.mutate(t);
  }

  return (
    <form className="inline-form" onSubmit={submit} aria-label="New session">
      <input
        type="text"
        placeholder="New session title"
        value={title}
        maxLength={500}
        onChange={(e) => setTitle(e.target.value)}
        aria-label="Session title"
      />
      <button type="submit" disabled={create.isPending || !title.trim()}>
        {create.isPending ? 'Creating…' : 'New session'}
      </button>
      {create.isError && <p className="error" role="alert">{create.error.message}</p>}
    </form>
  );
}
