/**
 * How the dashboard is put on the web, locally and in AWS alike: its static files (functions/dashboard at `/`,
 * uPlot's dist at `/vendor/uplot/`) and `/config.json`, which tells the page where the API is and how to sign
 * in. The local server writes a dev config; in AWS the deployment writes the Cognito one beside the files.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';

export const dashboardConfigSchema = z.object({
  /** Where the API's routes live, e.g. `/api` on the same origin. */
  apiBaseUrl: z.string().min(1),
  /** How often live views poll; at most every 2 s. */
  pollMs: z.number().int().min(2000),
  auth: z.discriminatedUnion('mode', [
    z.object({
      mode: z.literal('dev'),
      /** POST {username, password} -> {token}. */
      loginPath: z.string(),
      /** Shown on the login page as hints (passwords are printed by `retrostride dev`). */
      users: z.array(z.object({ username: z.string(), description: z.string() })),
    }),
    z.object({
      mode: z.literal('cognito'),
      /** The hosted UI's domain, e.g. `https://retrostride.auth.eu-central-1.amazoncognito.com`. */
      domain: z.url(),
      /** A public app client (no secret) with the authorization-code grant and PKCE. */
      clientId: z.string().min(1),
      scopes: z.array(z.string()).default(['openid', 'email', 'profile']),
    }),
  ]),
});
export type DashboardConfig = z.input<typeof dashboardConfigSchema>;

export const DEFAULT_POLL_MS = 2000;

export interface AssetDir {
  /** URL path prefix, ending in `/`. */
  urlPrefix: string;
  dir: string;
}

/** Where each URL prefix's files are on disk; the longest prefix wins. */
export function dashboardAssetDirs(): AssetDir[] {
  const uplotMain = createRequire(import.meta.url).resolve('uplot');
  return [
    { urlPrefix: '/vendor/uplot/', dir: dirname(uplotMain) },
    { urlPrefix: '/', dir: fileURLToPath(new URL('../dashboard/', import.meta.url)) },
  ];
}
