import type { Route } from './api.js';
import { accountRoutes } from './routes-account.js';
import { authRoutes } from './routes-auth.js';
import { productRoutes } from './routes-products.js';
import { recoveryRoutes } from './routes-recovery.js';
import { registrationRoutes } from './routes-registration.js';
import { settingsRoutes } from './routes-settings.js';
import { trackingRoutes } from './routes-tracking.js';

/** The 19 endpoints of shared/UPSTREAM.md §1, by path. */
export const ROUTES: ReadonlyMap<string, Route> = new Map(
  [
    ...accountRoutes,
    ...authRoutes,
    ...registrationRoutes,
    ...recoveryRoutes,
    ...settingsRoutes,
    ...productRoutes,
    ...trackingRoutes,
  ].map((route) => [route.path, route]),
);
