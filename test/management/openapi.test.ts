/**
 * The OpenAPI document and the route table describe the same routes: a route or method in one and
 * not the other fails here.
 */
import { describe, expect, it } from 'vitest';
import { OPENAPI_DOCUMENT } from '../../src/management/openapi.js';
import { ROUTES } from '../../src/management/routes.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function routeKeys(): string[] {
  return ROUTES.map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`).sort();
}

function documentKeys(): string[] {
  const paths = OPENAPI_DOCUMENT['paths'] as Record<string, Record<string, unknown>>;
  const keys: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of Object.keys(item)) if (METHODS.includes(method)) keys.push(`${method} ${path}`);
  }
  return keys.sort();
}

describe('OpenAPI document', () => {
  it('has exactly the routes and methods of the router table', () => {
    expect(documentKeys()).toEqual(routeKeys());
    expect(routeKeys()).toHaveLength(18);
  });

  it('uses each route’s operationId and declares its path parameters', () => {
    const paths = OPENAPI_DOCUMENT['paths'] as Record<string, Record<string, { operationId: string; parameters: Array<{ name: string; in: string }> }>>;
    for (const route of ROUTES) {
      const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = paths[path]?.[route.method.toLowerCase()];
      expect(op?.operationId, `${route.method} ${route.path}`).toBe(route.operationId);
      const pathParams = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
      expect(op?.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(pathParams);
      const queryParams = op?.parameters.filter((p) => p.in === 'query').map((p) => p.name).sort();
      expect(queryParams, `${route.method} ${route.path} query`).toEqual([...route.query].sort());
    }
  });

  it('every $ref resolves', () => {
    const text = JSON.stringify(OPENAPI_DOCUMENT);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/(schemas|responses)\/([A-Za-z0-9]+)"/g)];
    expect(refs.length).toBeGreaterThan(20);
    const components = OPENAPI_DOCUMENT['components'] as Record<string, Record<string, unknown>>;
    for (const [, kind, name] of refs) expect(components[kind!]?.[name!], `${kind}/${name}`).toBeDefined();
  });
});
