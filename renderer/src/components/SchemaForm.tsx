/**
 * A form generated from a JSON Schema (the subset plugin settings use): objects with
 * properties, strings (enum → select, maxLength), numbers/integers (minimum/maximum),
 * booleans, arrays of strings (rows, or checkboxes for an enum), arrays of objects (one
 * sub-form per item), defaults, descriptions as help text. Server validation errors
 * (`errors[].field`, e.g. `body/settings/patterns/0/pattern`) are shown next to the field.
 */
import { useId, useState, type ReactNode } from 'react';
import { ApiError } from '../../../common/problem.js';
import './SchemaForm.css';

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  format?: string;
}

/** Field path → message, paths relative to the form's value (`patterns/0/pattern`). */
export type FieldErrors = Record<string, string>;

/**
 * The field errors of an API problem under `prefix` (e.g. `body/settings`), keyed by the
 * rest of the path. An error naming the prefix itself is keyed `''`.
 */
export function fieldErrorsOf(error: unknown, prefix: string): FieldErrors {
  const out: FieldErrors = {};
  if (!(error instanceof ApiError)) return out;
  for (const e of error.problem.errors ?? []) {
    if (!e.field) continue;
    if (e.field === prefix) out[''] ??= e.message;
    else if (e.field.startsWith(prefix + '/')) out[e.field.slice(prefix.length + 1)] ??= e.message;
  }
  return out;
}

/** The error for `path`, or for anything below it (an array's item errors show on the array). */
export function errorAt(errors: FieldErrors | undefined, path: string, includeChildren = false): string | undefined {
  if (!errors) return undefined;
  if (errors[path] !== undefined) return errors[path];
  if (!includeChildren) return undefined;
  const key = Object.keys(errors).find((k) => k.startsWith(path + '/'));
  return key === undefined ? undefined : errors[key];
}

const typeOf = (s: JsonSchema): string | undefined => {
  if (Array.isArray(s.type)) return s.type.find((t) => t !== 'null');
  if (s.type) return s.type;
  if (s.enum) return typeof s.enum[0] === 'number' ? 'number' : 'string';
  if (s.properties) return 'object';
  if (s.items) return 'array';
  return undefined;
};

/** A value with every default applied (objects get their properties' defaults). */
export function defaultsOf(schema: JsonSchema): unknown {
  const t = typeOf(schema);
  if (t === 'object') {
    const base = isRecord(schema.default) ? structuredClone(schema.default) : {};
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      if (base[name] !== undefined) continue;
      const v = defaultsOf(prop);
      if (v !== undefined) base[name] = v;
    }
    return base;
  }
  if (schema.default !== undefined) return structuredClone(schema.default);
  if (t === 'array') return (schema.minItems ?? 0) > 0 ? [] : undefined;
  if (t === 'boolean') return undefined;
  return undefined;
}

/** `customWords` → `Custom words`. */
export function humanize(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const testId = (path: string[]): string => (path.length ? path.join('.') : 'root');

/** Label, help text and error around one control. */
export function FieldShell(props: {
  id: string;
  label: string;
  help?: string;
  error?: string;
  required?: boolean;
  testId: string;
  inline?: boolean;
  children: ReactNode;
}) {
  const { id, label, help, error, required, inline, children } = props;
  return (
    <div className={`sf-field${inline ? ' sf-field-inline' : ''}${error ? ' sf-has-error' : ''}`} data-testid={`field-${props.testId}`}>
      {inline ? (
        <label className="sf-check" htmlFor={id}>
          {children}
          <span>{label}</span>
        </label>
      ) : (
        <>
          <label className="sf-label" htmlFor={id}>
            {label}
            {required && <span className="sf-required" aria-hidden="true"> *</span>}
          </label>
          {children}
        </>
      )}
      {help && (
        <p className="sf-help" id={`${id}-help`}>
          {help}
        </p>
      )}
      {error && (
        <p className="sf-error" id={`${id}-error`} role="alert" data-testid={`field-error-${props.testId}`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** `aria-describedby` for a control inside a FieldShell. */
export function describedBy(id: string, help?: string, error?: string): string | undefined {
  const ids = [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

interface NodeProps {
  schema: JsonSchema;
  value: unknown;
  onChange(value: unknown): void;
  path: string[];
  label: string;
  required: boolean;
  errors?: FieldErrors;
  idBase: string;
  disabled?: boolean;
  autoFocus?: boolean;
}

function enumLabel(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function SchemaNode(p: NodeProps) {
  const t = typeOf(p.schema);
  const id = `${p.idBase}-${p.path.join('-') || 'root'}`;
  const key = p.path.join('/');
  const help = p.schema.description;
  const tid = testId(p.path);

  if (t === 'object') return <ObjectNode {...p} />;
  if (t === 'array') return <ArrayNode {...p} />;

  const error = errorAt(p.errors, key);
  const aria = describedBy(id, help, error);

  if (p.schema.enum) {
    const options = p.schema.enum;
    const index = options.findIndex((o) => JSON.stringify(o) === JSON.stringify(p.value));
    return (
      <FieldShell id={id} label={p.label} help={help} error={error} required={p.required} testId={tid}>
        <select
          id={id}
          className="sf-input"
          value={index < 0 ? '' : String(index)}
          aria-describedby={aria}
          aria-invalid={error ? true : undefined}
          disabled={p.disabled}
          autoFocus={p.autoFocus}
          onChange={(e) => p.onChange(e.target.value === '' ? undefined : options[Number(e.target.value)])}
        >
          {(index < 0 || !p.required) && <option value="">{p.required ? 'Choose…' : '(not set)'}</option>}
          {options.map((o, i) => (
            <option key={i} value={String(i)}>
              {enumLabel(o)}
            </option>
          ))}
        </select>
      </FieldShell>
    );
  }

  if (t === 'boolean') {
    return (
      <FieldShell id={id} label={p.label} help={help} error={error} testId={tid} inline>
        <input
          id={id}
          type="checkbox"
          checked={p.value === true}
          aria-describedby={aria}
          disabled={p.disabled}
          autoFocus={p.autoFocus}
          onChange={(e) => p.onChange(e.target.checked)}
        />
      </FieldShell>
    );
  }

  if (t === 'number' || t === 'integer') {
    const min = p.schema.minimum ?? p.schema.exclusiveMinimum;
    const max = p.schema.maximum ?? p.schema.exclusiveMaximum;
    const range = min !== undefined && max !== undefined ? `${min}–${max}` : min !== undefined ? `≥ ${min}` : max !== undefined ? `≤ ${max}` : '';
    return (
      <FieldShell id={id} label={range ? `${p.label} (${range})` : p.label} help={help} error={error} required={p.required} testId={tid}>
        <NumberInput
          id={id}
          value={typeof p.value === 'number' ? p.value : undefined}
          integer={t === 'integer'}
          min={min}
          max={max}
          aria={aria}
          invalid={!!error}
          disabled={p.disabled}
          autoFocus={p.autoFocus}
          onChange={p.onChange}
        />
      </FieldShell>
    );
  }

  if (t === 'string') {
    const long = (p.schema.maxLength ?? 0) > 500;
    const common = {
      id,
      className: 'sf-input',
      value: typeof p.value === 'string' ? p.value : '',
      maxLength: p.schema.maxLength,
      'aria-describedby': aria,
      'aria-invalid': error ? true : undefined,
      disabled: p.disabled,
      autoFocus: p.autoFocus,
    };
    return (
      <FieldShell id={id} label={p.label} help={help} error={error} required={p.required} testId={tid}>
        {long ? (
          <textarea {...common} rows={3} onChange={(e) => p.onChange(e.target.value)} />
        ) : (
          <input {...common} type="text" spellCheck={false} onChange={(e) => p.onChange(e.target.value === '' && !p.required ? undefined : e.target.value)} />
        )}
      </FieldShell>
    );
  }

  return <JsonNode {...p} />;
}

/** A number field that keeps what is typed (e.g. `0.` or `-`) while it is not yet a number. */
function NumberInput(props: {
  id: string;
  value: number | undefined;
  integer: boolean;
  min?: number;
  max?: number;
  aria?: string;
  invalid: boolean;
  disabled?: boolean;
  autoFocus?: boolean;
  onChange(value: unknown): void;
}) {
  const [text, setText] = useState(props.value === undefined ? '' : String(props.value));
  const shown = Number(text) === props.value || (text === '' && props.value === undefined) ? text : props.value === undefined ? '' : String(props.value);
  return (
    <input
      id={props.id}
      className="sf-input sf-number"
      type="number"
      inputMode={props.integer ? 'numeric' : 'decimal'}
      step={props.integer ? 1 : 'any'}
      min={props.min}
      max={props.max}
      value={shown}
      aria-describedby={props.aria}
      aria-invalid={props.invalid ? true : undefined}
      disabled={props.disabled}
      autoFocus={props.autoFocus}
      onChange={(e) => {
        setText(e.target.value);
        const n = e.target.valueAsNumber;
        props.onChange(e.target.value === '' || Number.isNaN(n) ? undefined : n);
      }}
    />
  );
}

function ObjectNode(p: NodeProps) {
  const value = isRecord(p.value) ? p.value : {};
  const required = new Set(p.schema.required ?? []);
  const key = p.path.join('/');
  const error = errorAt(p.errors, key);
  const entries = Object.entries(p.schema.properties ?? {});
  const body = (
    <div className="sf-object">
      {entries.length === 0 && <p className="sf-help">No settings.</p>}
      {entries.map(([name, prop], i) => (
        <SchemaNode
          key={name}
          schema={prop}
          value={value[name]}
          onChange={(v) => {
            const next = { ...value };
            if (v === undefined) delete next[name];
            else next[name] = v;
            p.onChange(next);
          }}
          path={[...p.path, name]}
          label={prop.title ?? humanize(name)}
          required={required.has(name)}
          errors={p.errors}
          idBase={p.idBase}
          disabled={p.disabled}
          autoFocus={p.autoFocus && i === 0}
        />
      ))}
      {error && (
        <p className="sf-error" role="alert" data-testid={`field-error-${testId(p.path)}`}>
          {error}
        </p>
      )}
    </div>
  );
  if (p.path.length === 0) return body;
  return (
    <fieldset className="sf-fieldset" data-testid={`field-${testId(p.path)}`}>
      <legend>{p.label}</legend>
      {p.schema.description && <p className="sf-help">{p.schema.description}</p>}
      {body}
    </fieldset>
  );
}

function ArrayNode(p: NodeProps) {
  const items = p.schema.items ?? {};
  const list = Array.isArray(p.value) ? p.value : [];
  const [added, setAdded] = useState<number | null>(null);
  const key = p.path.join('/');
  const tid = testId(p.path);
  const error = errorAt(p.errors, key);
  const help = p.schema.description;
  const max = p.schema.maxItems;
  const itemType = typeOf(items);

  // An enum of strings with unique items: a checkbox per option.
  if (items.enum && p.schema.uniqueItems !== false) {
    return (
      <fieldset className="sf-fieldset sf-checks" data-testid={`field-${tid}`}>
        <legend>{p.label}</legend>
        {help && <p className="sf-help">{help}</p>}
        <div className="sf-check-row">
          {items.enum.map((option, i) => {
            const id = `${p.idBase}-${p.path.join('-')}-${i}`;
            const on = list.some((v) => JSON.stringify(v) === JSON.stringify(option));
            return (
              <label key={i} className="sf-check" htmlFor={id}>
                <input
                  id={id}
                  type="checkbox"
                  checked={on}
                  disabled={p.disabled}
                  onChange={(e) =>
                    p.onChange(e.target.checked ? items.enum!.filter((o) => o === option || list.includes(o)) : list.filter((v) => JSON.stringify(v) !== JSON.stringify(option)))
                  }
                />
                <span>{enumLabel(option)}</span>
              </label>
            );
          })}
        </div>
        {error && (
          <p className="sf-error" role="alert" data-testid={`field-error-${tid}`}>
            {error}
          </p>
        )}
      </fieldset>
    );
  }

  const set = (next: unknown[]) => p.onChange(next);
  const addItem = () => {
    const fresh = defaultsOf(items);
    setAdded(list.length);
    set([...list, fresh === undefined ? (itemType === 'string' ? '' : itemType === 'object' ? {} : fresh) : fresh]);
  };
  const itemLabel = items.title ?? (p.label.endsWith('s') ? p.label.slice(0, -1) : `${p.label} item`);

  return (
    <fieldset className="sf-fieldset" data-testid={`field-${tid}`}>
      <legend>
        {p.label} <span className="sf-count">{list.length}{max !== undefined ? ` / ${max}` : ''}</span>
      </legend>
      {help && <p className="sf-help">{help}</p>}
      {list.length === 0 && <p className="sf-help sf-empty">None yet.</p>}
      <ol className="sf-items">
        {list.map((item, i) => {
          const itemPath = [...p.path, String(i)];
          const remove = (
            <button
              type="button"
              className="sf-remove"
              aria-label={`Remove ${itemLabel.toLowerCase()} ${i + 1}`}
              data-testid={`remove-${testId(itemPath)}`}
              disabled={p.disabled}
              onClick={() => set(list.filter((_, j) => j !== i))}
            >
              Remove
            </button>
          );
          const child = (
            <SchemaNode
              schema={items}
              value={item}
              onChange={(v) => set(list.map((old, j) => (j === i ? (v === undefined && itemType === 'string' ? '' : v) : old)))}
              path={itemPath}
              label={`${itemLabel} ${i + 1}`}
              required
              errors={p.errors}
              idBase={p.idBase}
              disabled={p.disabled}
              autoFocus={added === i}
            />
          );
          return (
            <li key={i} className={itemType === 'object' ? 'sf-item sf-item-object' : 'sf-item'}>
              {child}
              {remove}
            </li>
          );
        })}
      </ol>
      <button type="button" className="sf-add" data-testid={`add-${tid}`} disabled={p.disabled || (max !== undefined && list.length >= max)} onClick={addItem}>
        + Add {itemLabel.toLowerCase()}
      </button>
      {error && (
        <p className="sf-error" role="alert" data-testid={`field-error-${tid}`}>
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** Anything the generator does not understand: edited as JSON. */
function JsonNode(p: NodeProps) {
  const id = `${p.idBase}-${p.path.join('-') || 'root'}`;
  const [text, setText] = useState(() => JSON.stringify(p.value ?? null, null, 2));
  const [bad, setBad] = useState(false);
  const error = bad ? 'Not valid JSON' : errorAt(p.errors, p.path.join('/'));
  return (
    <FieldShell id={id} label={`${p.label} (JSON)`} help={p.schema.description} error={error} testId={testId(p.path)}>
      <textarea
        id={id}
        className="sf-input sf-json"
        rows={4}
        value={text}
        disabled={p.disabled}
        aria-describedby={describedBy(id, p.schema.description, error)}
        onChange={(e) => {
          setText(e.target.value);
          try {
            p.onChange(e.target.value.trim() === '' ? undefined : JSON.parse(e.target.value));
            setBad(false);
          } catch {
            setBad(true);
          }
        }}
      />
    </FieldShell>
  );
}

export interface SchemaFormProps {
  schema: JsonSchema;
  value: unknown;
  onChange(value: unknown): void;
  /** Server errors relative to the value (see `fieldErrorsOf`). */
  errors?: FieldErrors;
  disabled?: boolean;
}

/** The generated form (no <form> element: embed it in yours). */
export function SchemaForm({ schema, value, onChange, errors, disabled }: SchemaFormProps) {
  const idBase = `sf${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  return (
    <div className="sf" data-testid="schema-form">
      <SchemaNode schema={schema} value={value} onChange={onChange} path={[]} label="" required errors={errors} idBase={idBase} disabled={disabled} />
    </div>
  );
}
