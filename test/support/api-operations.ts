/** One operation of the service's OpenAPI document, as the generated edge suites drive it. */
export interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  hasBody: boolean;
}

/** The long variants (SECRETS_LONG_TESTS=1, README) run ten times the generated cases. */
export const LONG_TESTS = process.env.SECRETS_LONG_TESTS === '1';
export const GENERATED_RUNS = LONG_TESTS ? 20_000 : 2_000;

/**
 * Every `/api/v1` operation the running service documents: read from its own OpenAPI document,
 * so a route added later is fuzzed without anyone remembering to list it.
 */
export async function apiOperations(baseUrl: string): Promise<Operation[]> {
  const document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: unknown }>>;
  };
  return Object.entries(document.paths)
    .filter(([path]) => path.startsWith('/api/v1/'))
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, spec]) => ({
        method: method.toUpperCase(),
        path,
        pathParams: (spec.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: (spec.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        hasBody: spec.requestBody !== undefined,
      })),
    );
}
