/**
 * How the dashboard is put on the web, locally and in AWS alike: its static files (functions/dashboard at `/`,
 * uPlot's dist at `/vendor/uplot/`), `/config.json`, which tells the page where the API is and how to sign
 * in, and the Content-Security-Policy its pages are served with. The local server writes a dev config; in AWS
 * the deployment writes the Cognito one beside the files.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
    { urlPrefix: '/', dir: dashboardDir() },
  ];
}

/** The dashboard's own files (functions/dashboard), where its pages are. */
const dashboardDir = (): string => fileURLToPath(new URL('../dashboard/', import.meta.url));

/**
 * The inline scripts of the dashboard's pages as CSP hash sources: index.html's import map (uPlot's module
 * path), the one inline script, which cannot be a file (browsers load import maps inline only).
 */
export function inlineScriptHashes(dir = dashboardDir()): string[] {
  const hashes = new Set<string>();
  for (const name of readdirSync(dir)
    .filter((file) => file.endsWith('.html'))
    .sort()) {
    const html = readFileSync(join(dir, name), 'utf8');
    for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      if (/\bsrc\s*=/i.test(match[1] ?? '')) continue;
      hashes.add(
        `'sha256-${createHash('sha256')
          .update(match[2] ?? '', 'utf8')
          .digest('base64')}'`,
      );
    }
  }
  return [...hashes];
}

export interface ContentSecurityOptions {
  /** Origins the page fetches from besides its own: in AWS, Cognito's domain (the token exchange). */
  connectSources?: readonly string[];
  /**
   * The local outbox previews each email in a sandboxed srcdoc frame, which inherits the page's policy: the
   * email's style attributes need `style-src-attr 'unsafe-inline'`. AWS has no outbox (SES sends), so no.
   */
  emailPreview?: boolean;
}

/**
 * The Content-Security-Policy of the dashboard's pages, from CloudFront and the local server alike: its own
 * origin, the import map's hash and the sign-in origin, nothing else. No inline script or style: the pages
 * build the DOM with textContent and set styles through CSSOM (js/dom.js), which CSP does not govern, as uPlot
 * does. No framing (clickjacking), no plugins, no <base>.
 */
export function dashboardContentSecurityPolicy(options: ContentSecurityOptions = {}): string {
  const directives: string[][] = [
    ['default-src', "'none'"],
    ['script-src', "'self'", ...inlineScriptHashes()],
    ['style-src', "'self'"],
    ...(options.emailPreview ? [['style-src-attr', "'unsafe-inline'"]] : []),
    ['img-src', "'self'"],
    ['connect-src', "'self'", ...(options.connectSources ?? [])],
    ['form-action', "'self'"],
    ['base-uri', "'none'"],
    ['object-src', "'none'"],
    ['frame-ancestors', "'none'"],
  ];
  return directives.map((directive) => directive.join(' ')).join('; ');
}
