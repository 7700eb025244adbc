import { ApiError } from '../../../common/problem.js';

const FIELD_WORDS: Record<string, string> = { body: '', query: 'query ', params: '' };

/** `body/settings/words/0` → `settings › words › 0`. */
export function fieldLabel(field: string): string {
  const [where = '', ...rest] = field.split('/');
  return (FIELD_WORDS[where] ?? `${where} `) + rest.join(' › ');
}

/** An API error in plain words, next to what caused it. */
export function ProblemText({ error, prefix }: { error: unknown; prefix?: string }) {
  if (!error) return null;
  let text: string;
  if (error instanceof ApiError) {
    const p = error.problem;
    const fields = (p.errors ?? []).filter((e) => e.field).map((e) => `${fieldLabel(e.field)}: ${e.message}`);
    text = fields.length ? fields.join('; ') : (p.detail ?? p.title);
  } else text = error instanceof Error ? error.message : String(error);
  return (
    <p className="error" role="alert">
      {prefix ? `${prefix}: ` : ''}
      {text}
    </p>
  );
}
