/**
 * The OpenAPI 3.1 document, generated from the route table and the zod schemas (zod 4's toJSONSchema; OpenAPI
 * 3.1 schemas are JSON Schema 2020-12). Components are the schemas registered in `apiSchemas`.
 */
import * as z from 'zod';
import { API_BASE_PATH, type RouteInfo } from './router.js';
import { apiSchemas } from './schema-registry.js';
import { errorResponse } from './schemas.js';

type JsonSchema = Record<string, unknown>;

const COMPONENT_PREFIX = '#/components/schemas/';

/** `$schema` and `$id` belong to standalone documents, not to schemas embedded in OpenAPI. */
function embedded(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function componentRef(schema: z.ZodType): JsonSchema {
  const id = apiSchemas.get(schema)?.id;
  if (id === undefined) throw new Error('a route response schema is not registered in apiSchemas');
  return { $ref: `${COMPONENT_PREFIX}${id}` };
}

function parametersOf(schema: z.ZodObject, location: 'path' | 'query'): JsonSchema[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const json = embedded(z.toJSONSchema(field, { io: 'input' }) as JsonSchema);
    const { description, ...rest } = json;
    return {
      name,
      in: location,
      // A field that accepts nothing (optional, or with a default) need not be sent.
      required: location === 'path' || !field.safeParse(undefined).success,
      ...(description !== undefined && { description }),
      schema: rest,
    };
  });
}

const ERRORS: Record<string, string> = {
  '400': 'Invalid input: `reasons` lists each problem as "field path: message"',
  '401': 'Not signed in',
  '403': "Not allowed: the role is missing, or the gym is not in the caller's claims",
  '404': 'No such route or item',
};

function operationOf(route: RouteInfo): JsonSchema {
  const errorContent = { 'application/json': { schema: componentRef(errorResponse) } };
  const errors = route.access === 'public' ? { '404': ERRORS['404'] } : ERRORS;
  const operationId = `${route.method.toLowerCase()}${route.path
    .split('/')
    .filter((part) => part.length > 0)
    .map((part) => part.replace(/[{}.]/g, ''))
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;
  return {
    operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(Array.isArray(route.access) && { 'x-roles': route.access }),
    parameters: [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')],
    responses: {
      '200': {
        description: 'OK',
        content: { 'application/json': { schema: componentRef(route.response) } },
      },
      ...Object.fromEntries(
        Object.entries(errors).map(([status, description]) => [
          status,
          { description, content: errorContent },
        ]),
      ),
    },
  };
}

const documents = new WeakMap<readonly RouteInfo[], JsonSchema>();

/** Generated once per route table. */
export function openApiDocument(routes: readonly RouteInfo[]): JsonSchema {
  const known = documents.get(routes);
  if (known) return known;
  const generated = z.toJSONSchema(apiSchemas, {
    uri: (id) => `${COMPONENT_PREFIX}${id}`,
    io: 'output',
  }) as { schemas: Record<string, JsonSchema> };
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = `${API_BASE_PATH}${route.path}`;
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'Retrostride API',
      version: '1',
      description:
        "Fleet, sessions, alerts and utilisation of the gyms in the caller's claims. Sign in with Cognito (an ID token as `Authorization: Bearer`); every gym-scoped route checks the gym against the `custom:gyms` claim.",
    },
    servers: [{ url: '/' }],
    components: {
      schemas: Object.fromEntries(
        Object.entries(generated.schemas).map(([id, schema]) => [id, embedded(schema)]),
      ),
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    security: [{ bearerAuth: [] }],
    paths,
  };
  documents.set(routes, document);
  return document;
}
