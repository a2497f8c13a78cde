import type { Route } from '../lib/route.js';
import type { Role } from '../lib/session.js';

export interface ViewProps {
  route: Route;
  /** The instant the view's relative ranges are computed from (fixed per navigation). */
  now: number;
  theme: 'light' | 'dark';
  role: Role;
}
