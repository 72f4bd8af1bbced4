/**
 * Declarative routes: each is one entry (method, path template, parameter and response schemas, who may call,
 * handler). Routing, input validation, access checks and the OpenAPI document all read the same entries.
 *
 * Order of checks for a request: unknown path 404 (other method 405), no login 401, role not allowed 403,
 * bad path parameters 400, a gym not in the caller's claims 403, bad query 400, then the handler.
 */
import type { z } from 'zod';
import { issueReasons } from '../../shared/src/telemetry/validate.js';
import type { Caller, Role } from './identity.js';

/** Where the API's routes live under the site (CloudFront sends /api/* to API Gateway). */
export const API_BASE_PATH = '/api';

export type HttpMethod = 'GET' | 'POST';

/** `public` needs no login; `signed-in` any caller with claims; otherwise one of the roles. */
export type Access = 'public' | 'signed-in' | readonly Role[];

/** A failure the caller is told about, with the status to send. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reasons?: string[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (message: string): ApiError => new ApiError(404, 'not_found', message);

export interface RawRequest {
  /** Path parameter values, already decoded. */
  params: Record<string, string>;
  query: Record<string, string | undefined>;
}

export interface RouteInfo {
  method: HttpMethod;
  /** Under /api, with `{name}` for parameters, e.g. `/gyms/{gymId}/treadmills`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params: z.ZodObject;
  query: z.ZodObject;
  response: z.ZodType;
}

/** A route with its types erased, as the dispatcher and the OpenAPI generator see it. */
export interface Route<D> extends RouteInfo {
  invoke(request: RawRequest, caller: Caller | null, deps: D): Promise<unknown>;
}

export interface RouteContext<D, P extends z.ZodObject, Q extends z.ZodObject> {
  params: z.output<P>;
  query: z.output<Q>;
  caller: Caller;
  deps: D;
}

export interface RouteSpec<D, P extends z.ZodObject, Q extends z.ZodObject, R extends z.ZodType> extends Omit<
  RouteInfo,
  'params' | 'query' | 'response' | 'access'
> {
  access: Exclude<Access, 'public'>;
  params: P;
  query: Q;
  response: R;
  /** Returns the response schema's input: the compiler checks the body against the documented schema. */
  handle(context: RouteContext<D, P, Q>): Promise<z.input<R>>;
}

function parsed<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ApiError(400, 'bad_request', `invalid ${where}`, issueReasons(result.error));
}

export function mayCall(access: Access, caller: Caller): boolean {
  if (access === 'public' || access === 'signed-in') return true;
  return access.some((role) => caller.roles.includes(role));
}

/** A route needing a login; a `gymId` path parameter must be one of the caller's gyms. */
export function defineRoute<D, P extends z.ZodObject, Q extends z.ZodObject, R extends z.ZodType>(
  spec: RouteSpec<D, P, Q, R>,
): Route<D> {
  return {
    ...spec,
    async invoke(request, caller, deps) {
      if (!caller) throw new ApiError(401, 'unauthorized', 'sign in first');
      if (!mayCall(spec.access, caller))
        throw new ApiError(403, 'forbidden', `this needs the role ${[spec.access].flat().join(' or ')}`);
      const params = parsed(spec.params, request.params, 'path parameters');
      const gymId = (params as { gymId?: unknown }).gymId;
      if (typeof gymId === 'string' && !caller.gyms.includes(gymId))
        throw new ApiError(403, 'forbidden', `gym ${gymId} is not one of yours`);
      const query = parsed(spec.query, request.query, 'query');
      return spec.handle({ params, query, caller, deps });
    },
  };
}

/** A route anyone may call (the API description). */
export function definePublicRoute<D>(
  spec: Omit<RouteInfo, 'access'> & { handle(deps: D): Promise<unknown> },
): Route<D> {
  return { ...spec, access: 'public', invoke: (_request, _caller, deps) => spec.handle(deps) };
}

const splitPath = (path: string): string[] => path.split('/').filter((segment) => segment.length > 0);

/** Path parameters when `path` fits the template, else null; a malformed escape is a 400. */
export function matchPath(template: string, path: string): Record<string, string> | null {
  const expected = splitPath(template);
  const actual = splitPath(path);
  if (expected.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of expected.entries()) {
    const segment = actual[index] ?? '';
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name === undefined) {
      if (part !== segment) return null;
      continue;
    }
    try {
      params[name] = decodeURIComponent(segment);
    } catch {
      throw new ApiError(400, 'bad_request', `path parameter ${name} is not valid percent-encoding`);
    }
  }
  return params;
}

/** The route for a method and path (relative to /api), or a 404/405. */
export function findRoute<D>(
  routes: readonly Route<D>[],
  method: string,
  path: string,
): { route: Route<D>; params: Record<string, string> } {
  let otherMethods = false;
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (params === null) continue;
    if (route.method === method) return { route, params };
    otherMethods = true;
  }
  if (otherMethods) throw new ApiError(405, 'method_not_allowed', `${method} is not allowed on ${path}`);
  throw notFound(`no route ${method} /api${path}`);
}
