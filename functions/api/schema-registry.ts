/**
 * The registry of the API's named schemas (the OpenAPI document's components) and the empty parameter shapes.
 * Kept apart from schemas.ts so a handler with few routes (the export function) bundles only its own schemas,
 * not every route's.
 */
import * as z from 'zod';

/** Components of the OpenAPI document, by name. */
export const apiSchemas = z.registry<{ id: string }>();

/** `schema`, registered as the OpenAPI component `id`. */
export function named<S extends z.ZodType>(id: string, schema: S): S {
  apiSchemas.add(schema, { id });
  return schema;
}

export const noParams = z.object({});
export const noQuery = z.object({});
