import type { ApiDeps } from '../deps';
import type { AnyRouteSpec } from '../route';
import { apiAccessRoutes } from './api-access';
import { apiLogRoutes } from './api-logs';
import { authRoutes } from './auth';
import { healthRoutes } from './health';
import { userRoutes } from './users';
import { verificationRoutes } from './verification';

export function allRoutes(deps: ApiDeps): AnyRouteSpec[] {
  return [
    ...healthRoutes(deps),
    ...authRoutes(deps),
    ...verificationRoutes(deps),
    ...apiAccessRoutes(deps),
    ...userRoutes(deps),
    ...apiLogRoutes(deps),
  ];
}
