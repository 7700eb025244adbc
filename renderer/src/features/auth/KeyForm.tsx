import { useState, type FormEvent } from 'react';

interface KeyFormProps {
  onSubmit: (key: string) => void;
  /** Why we are asking, e.g. the previous key was rejected. */
  notice?: string | null;
}

/** Asks for an API key when the browser console has none. */
export function KeyForm({ onSubmit, notice }: KeyFormProps) {
  const [key, setKey] = useState('');

  function submit(e: FormEvent<HTMLFormElement>): void {
    e.preventDefault();
    const k = key.trim();
    if (k) onSubmit(k);
  }

  return (
    <main className="key-screen">
      <form className="key-card" onSubmit={submit} data-testid="key-form">
        <h1>Cortex Console</h1>
        <p className="muted">
          Enter an API key to connect. It is kept in this browser&apos;s local storage only. (Tip: open the console
          as <code>/#key=ctx_…</code> to skip this step.)
        </p>
        {notice && (
          <p className="error" role="alert">
            {notice}
          </p>
        )}
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="ctx_…"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          autoFocus
        />
        <button type="submit" disabled={!key.trim()}>
          Connect
        </button>
      </form>
    </main>
  );
}
