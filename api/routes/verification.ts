import type { ApiDeps } from '../deps';
import type { AnyRouteSpec } from '../route';

export function verificationRoutes(_deps: ApiDeps): AnyRouteSpec[] {
  return [];
}
