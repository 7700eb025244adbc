import { VIEWS } from '../routes.js';
import { href } from '../lib/router.js';

/** The view list; the current one is marked for assistive technology and styling. */
export function Nav({ current }: { current: string }) {
  return (
    <nav className="nav" aria-label="Views">
      <ul>
        {VIEWS.map((v) => (
          <li key={v.id}>
            <a href={href(`/${v.id}`)} aria-current={v.id === current ? 'page' : undefined} data-testid={`nav-${v.id}`}>
              {v.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
