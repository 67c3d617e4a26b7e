/** The filter bar of the search, map and findings pages: its fields, then one submit button. */
import type { ReactNode } from 'react';
import { services } from './api/client.js';
import { plural } from './plural.js';
import { useApi } from './use-api.js';

export function FilterForm({ label, submit, onSubmit, children }: { label: string; submit: string; onSubmit: () => void; children: ReactNode }): ReactNode {
  return (
    <form
      className="filters"
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
      <div className="actions">
        <button type="submit">{submit}</button>
      </div>
    </form>
  );
}

/**
 * A select of the services the server knows, with "any" first. A value the list lacks (from a
 * shared link, or while the list loads) stays selectable.
 */
export function ServiceSelect({ id, value, onChange }: { id: string; value: string; onChange: (service: string) => void }): ReactNode {
  const loaded = useApi('services', (s) => services(s));
  const list = loaded.state === 'done' ? loaded.data : [];
  return (
    <label htmlFor={id}>
      Service
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any service</option>
        {list.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
        {value !== '' && !list.includes(value) ? <option value={value}>{value}</option> : null}
      </select>
    </label>
  );
}

/** A result count or "nothing matches", announced to screen readers. */
export function ResultCount({ count, one, many, none }: { count: number; one: string; many: string; none: string }): ReactNode {
  return (
    <p className="status" role="status">
      {count === 0 ? none : plural(count, one, many)}
    </p>
  );
}
