import fc from 'fast-check';
import { parserKnowsMethod, type RequestSpec } from './fuzz-arbitraries.js';
import type { Materialized, WireRequest, WireResponse } from './fuzz-world.js';

/** API.md's error table, written from the contract (not imported from src/, so a drift shows). */
export const CONTRACT_STATUS: Readonly<Record<string, number>> = {
  validation_failed: 400,
  invalid_credentials: 401,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  token_revoked: 401,
  refresh_token_invalid: 401,
  refresh_token_expired: 401,
  refresh_token_revoked: 401,
  refresh_token_reused: 401,
  insufficient_role: 403,
  insufficient_scope: 403,
  csrf_failed: 403,
  account_disabled: 403,
  not_found: 404,
  email_taken: 409,
  payload_too_large: 413,
  rate_limited: 429,
  service_unavailable: 503,
};

/** RFC 6749 §5.2, RFC 7009 §2.2.1 and RFC 6750 error codes an OAuth endpoint may answer. */
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'invalid_scope',
  'unauthorized_client',
  'unsupported_grant_type',
  'unsupported_token_type',
  'temporarily_unavailable',
  'slow_down',
]);

/** Routes behind the bearer guard: their 401s carry a `WWW-Authenticate` challenge. */
const BEARER_ROUTES = new Set([
  'POST /auth/logout-all',
  'GET /auth/me',
  'GET /auth/sessions',
  'DELETE /auth/sessions/:id',
  'POST /auth/password',
  'GET /auth/events',
  'POST /admin/users/:id/revoke-sessions',
  'GET /notes',
  'POST /notes',
  'GET /notes/:id',
  'DELETE /notes/:id',
  'GET /admin/notes',
]);

/** The messages of src/server/client-errors.ts, which answers what Node's parser cannot read. */
const PARSER_MESSAGES = new Set([
  'Malformed HTTP request',
  'Request headers are too large',
  'The request took too long to arrive',
]);

/** The OAuth endpoints, where errors are RFC 6749's `{error, error_description}`. */
const OAUTH_ENDPOINT = /^\/oauth\/(token|revoke|introspect)\/?$/i;
/** Odd paths around them (`/x/../oauth/token`): either shape is fair there. */
const OAUTH_SOMEWHERE = /oauth\/(token|revoke|introspect)/i;

/**
 * Everything wrong with one response, by the suite's properties: no 5xx; errors in the
 * contract's shape (RFC 6749's on `/oauth/*`) with their headers; nothing the request carried of
 * a secret, and no argon2 hash, anywhere in the response.
 *
 * @example expect(violations(spec, request, response)).toEqual([]);
 */
export function violations(spec: RequestSpec, request: Materialized, response: WireResponse): string[] {
  const found: string[] = [];
  const { status, headers } = response;
  if (status >= 500) found.push(`status ${status}`);
  if (status < 100) found.push('no status');

  const everything = `${response.text}\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${String(value)}`)
    .join('\n')}`;
  if (everything.includes('$argon2')) found.push('an argon2 hash in the response');
  for (const probe of request.probes) {
    // A grace replay answers with the successor, which the request may also carry elsewhere.
    if (request.replayable.some((successor) => successor.includes(probe))) continue;
    if (everything.includes(probe)) found.push(`a secret the request sent (${probe.length} chars) came back`);
  }

  if (status >= 400 && spec.method !== 'HEAD') found.push(...errorShapeViolations(request.wire, response));
  if (status === 429 && !/^\d+$/.test(String(headers['retry-after'] ?? ''))) found.push('429 without Retry-After');
  if (status === 401) found.push(...challengeViolations(spec, response));
  return found;
}

function errorShapeViolations(wire: WireRequest, response: WireResponse): string[] {
  const path = wire.path.split('?')[0]!;
  // What Node's parser refuses is answered before any routing, so in the contract's shape everywhere.
  const parsed =
    parserKnowsMethod(wire.method) && !PARSER_MESSAGES.has(String((response.json as { message?: unknown })?.message));
  const body = response.json;
  const json = /^application\/json\b/.test(String(response.headers['content-type'] ?? ''));
  if (!json || typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [`error body is not a JSON object (${response.text.length} bytes)`];
  }
  const contract = contractShapeProblem(body as Record<string, unknown>, response.status);
  const oauth = oauthShapeProblem(body as Record<string, unknown>);
  if (parsed && OAUTH_ENDPOINT.test(path)) return oauth ? [`not RFC 6749 shaped: ${oauth}`] : [];
  if (parsed && OAUTH_SOMEWHERE.test(path)) return contract && oauth ? [`neither shape: ${contract}; ${oauth}`] : [];
  return contract ? [`not contract shaped: ${contract}`] : [];
}

function contractShapeProblem(body: Record<string, unknown>, status: number): string | undefined {
  const keys = Object.keys(body).sort();
  const allowed = ['code', 'details', 'message', 'statusCode'];
  if (keys.some((key) => !allowed.includes(key)) || !['code', 'message', 'statusCode'].every((k) => k in body)) {
    return `keys ${JSON.stringify(keys)}`;
  }
  if (body.statusCode !== status) return `statusCode ${String(body.statusCode)} on a ${status}`;
  if (typeof body.message !== 'string') return 'message is not a string';
  const code = String(body.code);
  if (!(code in CONTRACT_STATUS)) return `code ${code} is not in API.md's table`;
  // validation_failed also stands for the other client errors Node or Express answer (405, 415, 431, …).
  if (CONTRACT_STATUS[code] !== status && !(code === 'validation_failed' && status >= 400 && status < 500)) {
    return `code ${code} with status ${status}`;
  }
  if ('details' in body) {
    const details = body.details;
    const wellFormed =
      Array.isArray(details) &&
      details.every(
        (entry: { field?: unknown; messages?: unknown }) =>
          typeof entry?.field === 'string' &&
          Array.isArray(entry.messages) &&
          entry.messages.every((message) => typeof message === 'string'),
      );
    if (!wellFormed) return 'details are not [{field, messages}]';
  }
  return undefined;
}

function oauthShapeProblem(body: Record<string, unknown>): string | undefined {
  const keys = Object.keys(body).sort();
  if (keys.join(',') !== 'error,error_description') return `keys ${JSON.stringify(keys)}`;
  if (!OAUTH_ERRORS.has(String(body.error))) return `error ${String(body.error)}`;
  if (typeof body.error_description !== 'string') return 'error_description is not a string';
  return undefined;
}

function challengeViolations(spec: RequestSpec, response: WireResponse): string[] {
  const code = (response.json as { code?: unknown; error?: unknown } | undefined)?.code;
  const error = (response.json as { error?: unknown } | undefined)?.error;
  const challenge = response.headers['www-authenticate'];
  if (error === 'invalid_client')
    return /^Basic /.test(String(challenge)) ? [] : ['invalid_client without a Basic challenge'];
  const bearer = BEARER_ROUTES.has(spec.route) || (typeof code === 'string' && code.startsWith('token_'));
  if (!bearer) return [];
  if (challenge === undefined) return [`401 ${String(code)} without WWW-Authenticate`];
  if (code === 'token_missing' && challenge !== 'Bearer realm="api"') return [`token_missing challenge ${challenge}`];
  if (
    typeof code === 'string' &&
    ['token_invalid', 'token_expired', 'token_revoked'].includes(code) &&
    !String(challenge).startsWith('Bearer realm="api", error="invalid_token"')
  ) {
    return [`${code} challenge ${String(challenge)}`];
  }
  return [];
}

/**
 * A failing request for the report, with every secret the world knows replaced by `<secret>`:
 * the generated form (references, printed by fast-check), what went over the wire and what came back.
 *
 * @example throw new Error(describeFailure(spec, request, response, problems, world.secrets()));
 */
export function describeFailure(
  spec: RequestSpec,
  request: Materialized,
  response: WireResponse | undefined,
  problems: string[],
  secrets: string[],
): string {
  const redact = (text: string) => {
    let out = text;
    for (const secret of [...secrets, ...request.probes].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join('<secret>');
    }
    return out.length > 2000 ? `${out.slice(0, 2000)}… (${out.length} chars)` : out;
  };
  const wire = request.wire;
  const lines = [
    `violations: ${redact(problems.join('; '))}`,
    `generated: ${redact(fc.stringify(spec))}`,
    `sent to ${wire.target}: ${wire.method} ${redact(wire.path)}${wire.chunked ? ' (chunked)' : ''}`,
    ...wire.headers.map(([name, value]) => `  ${name}: ${redact(value)}`),
    `  body: ${redact(wire.body.toString('latin1'))}`,
  ];
  if (response) {
    lines.push(`answered ${response.status}`);
    for (const [name, value] of Object.entries(response.headers)) lines.push(`  ${name}: ${redact(String(value))}`);
    lines.push(`  body: ${redact(response.text)}`);
  }
  return lines.join('\n');
}
