import { METHODS } from 'node:http';
import fc from 'fast-check';

// Generated requests name the world's secrets (tokens, passwords) by reference and are resolved
// only when sent, so fast-check's printed counterexamples and our reports never hold one, and a
// reference still means "the live token" after the world has logged an account in again.

/** How many accounts the world keeps: 0 is the admin, 1–3 are plain users. */
export const ACCOUNTS = 4;
/** The first plain user; below it is the admin. */
const FIRST_USER = 1;

/** What a request can carry of the world's secrets. */
export type SecretKind =
  | 'password'
  | 'access'
  | 'refresh'
  | 'previousRefresh'
  | 'cookieAccess'
  | 'cookieRefresh'
  | 'csrf'
  | 'staleAccess'
  | 'staleRefresh'
  | 'clientSecret';

/** Values of the world that are not secret but change as it runs (ids, emails). */
export type ValueKind = 'email' | 'userId' | 'sessionId' | 'cookieSessionId' | 'noteId';

/** A change made to a token (or any secret) before it is sent. */
export type Mutation =
  | { op: 'none' }
  | { op: 'flip'; at: number; char: string }
  | { op: 'truncate'; at: number }
  | { op: 'append'; text: string }
  | { op: 'dropSegment'; at: number }
  | { op: 'dupSegment'; at: number }
  | { op: 'swapSegments'; a: number; b: number }
  | { op: 'replaceSegment'; at: number; text: string }
  | { op: 'generation'; value: string }
  | { op: 'generationDelta'; delta: number }
  | { op: 'case'; upper: boolean }
  | { op: 'wrap'; before: string; after: string }
  | { op: 'percentEncode' }
  | { op: 'claims'; patch: Array<[string, unknown]> }
  | { op: 'header'; patch: Array<[string, unknown]> };

function mutationLabel(mutation: Mutation): string {
  if (mutation.op === 'none') return '';
  const { op, ...rest } = mutation;
  return ` ${op}${Object.keys(rest).length ? JSON.stringify(rest) : ''}`;
}

/** One of the world's secrets, by reference: `<access#2 flip{"at":17,"char":"Q"}>` when printed. */
export class Secret {
  constructor(
    readonly kind: SecretKind,
    readonly account: number,
    readonly mutation: Mutation = { op: 'none' },
  ) {}
  [fc.toStringMethod](): string {
    return `<${this.kind}#${this.account}${mutationLabel(this.mutation)}>`;
  }
}

/** A non-secret value of the world, by reference, with an optional spelling variant. */
export class Value {
  constructor(
    readonly kind: ValueKind,
    readonly account: number,
    readonly variant: 'none' | 'upper' | 'spaces' | 'tabs' = 'none',
  ) {}
  [fc.toStringMethod](): string {
    return `<${this.kind}#${this.account}${this.variant === 'none' ? '' : ` ${this.variant}`}>`;
  }
}

/** A hand-made JWT built from an account's real access token: unsigned, key-confused, or validly signed with odd claims. */
export class Forged {
  constructor(
    readonly variant: 'none' | 'hs-confusion' | 'unknown-kid' | 'typ-jwt' | 'signed',
    readonly account: number,
    readonly claims: Array<[string, unknown]>,
  ) {}
  [fc.toStringMethod](): string {
    return `<forged ${this.variant} of access#${this.account} ${JSON.stringify(this.claims)}>`;
  }
}

/** Anything resolved against the world when the request is sent. */
export type Ref = Secret | Value | Forged;

/** A nesting of `depth` arrays or objects around a leaf, written as JSON text when sent. */
export class Deep {
  constructor(
    readonly depth: number,
    readonly shape: 'array' | 'object' | 'mixed',
  ) {}
  [fc.toStringMethod](): string {
    return `<${this.shape} nested ${this.depth} deep>`;
  }
}

/** JSON text put into a body as it is (numbers JSON.stringify cannot write, like `1e400`). */
export class Raw {
  constructor(readonly json: string) {}
  [fc.toStringMethod](): string {
    return `<raw ${this.json}>`;
  }
}

/** A JSON object as an ordered list of entries, so `__proto__` and duplicate keys are sent as such. */
export class Obj {
  constructor(readonly entries: Array<[string, Template]>) {}
  [fc.toStringMethod](): string {
    return `{${this.entries.map(([key, value]) => `${JSON.stringify(key)}: ${fc.stringify(value)}`).join(', ')}}`;
  }
}

/** A body value before it is resolved and written. */
export type Template = null | boolean | number | string | Ref | Deep | Raw | Obj | Template[];

/** Text with references in it, joined when sent. */
export type Piece = string | Ref;

/** How the body goes over the wire. */
export type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; value: Template }
  | { kind: 'form'; fields: Array<[string, Template]> }
  | { kind: 'raw'; pieces: Piece[]; encoding: 'utf8' | 'latin1' }
  | { kind: 'bytes'; bytes: number[] };

/** One generated request, with references instead of secrets. */
export interface RequestSpec {
  /** `main` has raised limits; `limited` has the default login and request limits. */
  target: 'main' | 'limited';
  /** The endpoint it was made from, e.g. `POST /auth/login`. */
  route: string;
  method: string;
  path: Piece[];
  /** The query string after `?`, or none. */
  query: Piece[] | null;
  headers: Array<[string, Piece[]]>;
  body: BodySpec;
  /** Sent with `Transfer-Encoding: chunked` instead of a `Content-Length`. */
  chunked: boolean;
}

/** Whether Node's HTTP parser knows the method (others are refused before any routing). */
export function parserKnowsMethod(method: string): boolean {
  return METHODS.includes(method);
}

// ---------------------------------------------------------------------------------------------
// Strings and values

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const base64urlChar = fc.constantFrom(...BASE64URL.split(''));
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const oddCharacter = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\udfff',
  '\udc00\ud800',
  '😀',
  '👩‍👩‍👧',
  '\u202e',
  '\ufeff',
  '\uffff',
  '\u0085',
  '\u2028',
  '\n',
  '\r\n',
  '\t',
  '"',
  '\\',
  '%',
  '%00',
  "'",
  '<script>',
  '${x}',
  'é',
  'ß',
  'İ',
  'e\u0301',
  '\u0007',
  '\x7f',
);

/** Strings a careful client would never send: lone surrogates, NUL, emoji, controls, very long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(fc.string({ maxLength: 6 }), oddCharacter, loneSurrogate), { minLength: 1, maxLength: 6 })
      .map((parts) => parts.join('')),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('a', 'é', '😀', '\u0000', 'x\ud800'),
        fc.constantFrom(64, 127, 128, 129, 200, 255, 256, 320, 321, 1000, 5000, 10_001, 15_000),
      )
      .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length))),
  },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '   ', 'null', 'undefined', 'true', '0', '-1', 'NaN', '[]', '{}') },
);

/** A value where a string belongs: other types, nesting, hostile strings. */
export const hostileValue: fc.Arbitrary<Template> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1.5, Number.MAX_SAFE_INTEGER, -1) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(new Raw('1e400'), new Raw('-1e400'), new Raw('123456789012345678901234567890')),
  },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.tuple(hostileString, fc.oneof(hostileString, fc.integer())), { maxLength: 3 })
      .map((entries) => new Obj(entries)),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Template> },
  { weight: 1, arbitrary: deepArb() },
);

/** Nesting from a few levels to ~2000 (still under the 16 KiB body limit). */
function deepArb(): fc.Arbitrary<Deep> {
  return fc
    .tuple(
      fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 15, max: 2000 })),
      fc.constantFrom('array', 'object', 'mixed') as fc.Arbitrary<Deep['shape']>,
    )
    .map(([depth, shape]) => new Deep(depth, shape));
}

/** Header values Node's client lets through: tab, printable ASCII and the latin-1 range. */
export const headerString: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.string({
      unit: fc
        .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9))
        .map((code) => String.fromCharCode(code)),
      maxLength: 40,
    }),
  },
  // UTF-8 bytes (emoji, a lone surrogate's CESU bytes) written as latin-1 characters, byte for byte.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('😀', 'é', '\u202e', '\ufeff')
      .map((text) => Buffer.from(text, 'utf8').toString('latin1'))
      .chain((bytes) => fc.constantFrom(bytes, `x${bytes}y`, '\xed\xa0\x80')),
  },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '%00', '%zz', '\t\t', 'a'.repeat(3000), 'b'.repeat(9000)) },
);

const headerName = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);

// ---------------------------------------------------------------------------------------------
// Tokens and their mutations

const generationValue = fc.constantFrom(
  '0',
  '1',
  '2',
  '-1',
  '01',
  '00',
  '+1',
  '1.0',
  '1e3',
  '0x1',
  ' 1',
  '',
  'NaN',
  '2147483647',
  '2147483648',
  '9999999999',
  '99999999999',
  '18446744073709551616',
);

const claimValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileValue,
  fc.constantFrom(['admin'], ['user', 'admin'], [1], 'admin', 'notes:read notes:write', '', 0, 1, 4102444800, -1),
  fc.uuid(),
);
const claimPatch = fc.array(
  fc.tuple(
    fc.constantFrom('sub', 'sid', 'jti', 'roles', 'scope', 'exp', 'iat', 'nbf', 'iss', 'aud', 'typ'),
    claimValue,
  ),
  { minLength: 1, maxLength: 3 },
);
const headerPatch = fc.array(
  fc.tuple(
    fc.constantFrom('alg', 'typ', 'kid', 'jku', 'x5u', 'jwk', 'crit', 'b64', 'cty'),
    fc.oneof(
      fc.constantFrom('none', 'HS256', 'RS256', 'ES384', 'JWT', 'at+jwt', 'AT+JWT', 'https://evil.example/jwks'),
      claimValue,
    ),
  ),
  { minLength: 1, maxLength: 2 },
);

/** Changes made to a token: flipped characters, segments dropped/duplicated/swapped, generations, claims. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ op: 'none' as const }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), char: base64urlChar }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      text: fc.oneof(fc.constantFrom('=', '==', '.', '..', ' ', '\t', 'A', ',', '%00'), headerString),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dropSegment' as const), at: fc.nat({ max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dupSegment' as const), at: fc.nat({ max: 4 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('swapSegments' as const), a: fc.nat({ max: 3 }), b: fc.nat({ max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('replaceSegment' as const),
      at: fc.nat({ max: 3 }),
      text: fc.oneof(
        fc.string({ unit: base64urlChar, maxLength: 50 }),
        fc.constantFrom('', 'e30', 'eyJhbGciOiJub25lIn0'),
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('generation' as const), value: generationValue }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('generationDelta' as const), delta: fc.integer({ min: -3, max: 3 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('case' as const), upper: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('wrap' as const),
      before: fc.constantFrom('', ' ', '"', '\t'),
      after: fc.constantFrom('', ' ', '"', '\t', '\n'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'percentEncode' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('claims' as const), patch: claimPatch }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('header' as const), patch: headerPatch }) },
);

/**
 * Applies a mutation to a token. Pure: the same token and mutation always give the same text.
 *
 * @example mutate(token, { op: 'dropSegment', at: 1 })
 */
export function mutate(token: string, change: Mutation): string {
  const segments = token.split('.');
  const index = (at: number, length: number) => (length === 0 ? 0 : at % length);
  switch (change.op) {
    case 'none':
      return token;
    case 'flip': {
      if (token.length === 0) return change.char;
      const at = index(change.at, token.length);
      const char = token[at] === change.char ? (change.char === 'A' ? 'B' : 'A') : change.char;
      return token.slice(0, at) + char + token.slice(at + 1);
    }
    case 'truncate':
      return token.slice(0, index(change.at, token.length));
    case 'append':
      return token + change.text;
    case 'dropSegment':
      return segments.filter((_, i) => i !== index(change.at, segments.length)).join('.');
    case 'dupSegment': {
      const at = index(change.at, segments.length);
      return [...segments.slice(0, at + 1), segments[at], ...segments.slice(at + 1)].join('.');
    }
    case 'swapSegments': {
      const swapped = [...segments];
      const a = index(change.a, swapped.length);
      const b = index(change.b, swapped.length);
      [swapped[a], swapped[b]] = [swapped[b]!, swapped[a]!];
      return swapped.join('.');
    }
    case 'replaceSegment': {
      const replaced = [...segments];
      replaced[index(change.at, replaced.length)] = change.text;
      return replaced.join('.');
    }
    case 'generation':
      return segments.length > 1 ? [segments[0], change.value, ...segments.slice(2)].join('.') : token;
    case 'generationDelta': {
      if (segments.length < 2) return token;
      const generation = Number(segments[1]);
      const next = Number.isFinite(generation) ? String(generation + change.delta) : String(change.delta);
      return [segments[0], next, ...segments.slice(2)].join('.');
    }
    case 'case':
      return change.upper ? token.toUpperCase() : token.toLowerCase();
    case 'wrap':
      return change.before + token + change.after;
    case 'percentEncode':
      return [...Buffer.from(token, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
    case 'claims':
      return patchSegment(token, 1, change.patch);
    case 'header':
      return patchSegment(token, 0, change.patch);
  }
}

/** Rewrites one JSON segment of a JWT (keeping the others, so the signature no longer matches). */
function patchSegment(token: string, at: number, patch: Array<[string, unknown]>): string {
  const segments = token.split('.');
  if (segments.length < 2) return token;
  let decoded: Record<string, unknown> = {};
  try {
    decoded = JSON.parse(Buffer.from(segments[at]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    // A refresh token's segment is no JSON: patch an empty object instead.
  }
  segments[at] = Buffer.from(writeClaims(decoded, patch), 'utf8').toString('base64url');
  return segments.join('.');
}

/** A claims object with a patch over it, as JSON text (patched values may be templates). */
export function writeClaims(base: Record<string, unknown>, patch: Array<[string, unknown]>): string {
  const entries = new Map<string, string>();
  for (const [key, value] of Object.entries(base)) entries.set(key, JSON.stringify(value) ?? 'null');
  for (const [key, value] of patch)
    entries.set(
      key,
      writeJson(value as Template, () => 'x'),
    );
  return `{${[...entries].map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

/**
 * Writes a template as JSON text; `resolve` turns references into strings.
 *
 * @example writeJson(new Obj([['email', new Value('email', 1)]]), world.resolve)
 */
export function writeJson(template: Template, resolve: (ref: Ref) => string): string {
  if (template instanceof Secret || template instanceof Value || template instanceof Forged) {
    return JSON.stringify(resolve(template));
  }
  if (template instanceof Deep) return nested(template);
  if (template instanceof Raw) return template.json;
  if (template instanceof Obj) {
    return `{${template.entries.map(([key, value]) => `${JSON.stringify(key)}:${writeJson(value, resolve)}`).join(',')}}`;
  }
  if (Array.isArray(template)) return `[${template.map((item) => writeJson(item, resolve)).join(',')}]`;
  return JSON.stringify(template) ?? 'null';
}

function nested(deep: Deep): string {
  const open = (level: number) =>
    deep.shape === 'array' || (deep.shape === 'mixed' && level % 2 === 0) ? '[' : '{"a":';
  let head = '';
  let tail = '';
  for (let level = 0; level < deep.depth; level += 1) {
    const opener = open(level);
    head += opener;
    tail = (opener === '[' ? ']' : '}') + tail;
  }
  return `${head}"leaf"${tail}`;
}

// ---------------------------------------------------------------------------------------------
// Credentials

const account = fc.nat({ max: ACCOUNTS - 1 });
const user = fc.integer({ min: FIRST_USER, max: ACCOUNTS - 1 });

const secret = (kinds: SecretKind[], who: fc.Arbitrary<number> = account) =>
  fc
    .tuple(fc.constantFrom(...kinds), who, mutation)
    .map(([kind, owner, change]) => new Secret(kind, owner, change) as Piece);

const forged: fc.Arbitrary<Piece> = fc
  .tuple(
    fc.constantFrom('none', 'hs-confusion', 'unknown-kid', 'typ-jwt', 'signed', 'signed', 'signed') as fc.Arbitrary<
      Forged['variant']
    >,
    account,
    fc.oneof(fc.constant([] as Array<[string, unknown]>), claimPatch),
  )
  .map(([variant, owner, claims]) => new Forged(variant, owner, claims));

const garbageToken: fc.Arbitrary<Piece> = fc.oneof(
  fc.string({ unit: base64urlChar, maxLength: 60 }),
  fc.constantFrom('a.b.c', '..', 'eyJ.eyJ.', 'null', 'undefined', '[object Object]'),
  fc.uuid().map((id) => `${id}.0.${'A'.repeat(43)}.${'B'.repeat(22)}`),
);

/** An access token to present: the real one (often altered), another user's, a refresh token, forged, garbage. */
const accessToken = (who: fc.Arbitrary<number>): fc.Arbitrary<Piece> =>
  fc.oneof(
    { weight: 8, arbitrary: secret(['access'], who) },
    { weight: 1, arbitrary: secret(['cookieAccess', 'staleAccess']) },
    { weight: 1, arbitrary: secret(['refresh', 'previousRefresh', 'staleRefresh']) },
    { weight: 3, arbitrary: forged },
    { weight: 1, arbitrary: garbageToken },
  );

/** A refresh token to present: current, just rotated, of a revoked session, altered, garbage. */
const refreshToken = (who: fc.Arbitrary<number>): fc.Arbitrary<Piece> =>
  fc.oneof(
    { weight: 6, arbitrary: who.map((owner) => new Secret('refresh', owner) as Piece) },
    { weight: 6, arbitrary: secret(['refresh'], who) },
    { weight: 2, arbitrary: secret(['previousRefresh', 'staleRefresh', 'cookieRefresh'], who) },
    { weight: 1, arbitrary: secret(['access']) },
    { weight: 1, arbitrary: garbageToken },
  );

/** `Authorization` header variants: RFC 6750 and everything next to it. */
const authorization = (token: fc.Arbitrary<Piece>): fc.Arbitrary<Piece[]> =>
  fc.oneof(
    { weight: 8, arbitrary: token.map((t) => ['Bearer ', t]) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.constantFrom('Bearer', 'bearer', 'BEARER', 'BeArEr', 'Bearer:', 'Token', 'JWT', 'Basic', 'Bearer,', ''),
          fc.constantFrom(' ', '  ', '\t', '', ' \t', ', ', '='),
          token,
          fc.constantFrom('', '', ' extra', '\textra', ',', ', Bearer x', '=', ' Bearer', '.', ';'),
        )
        .map(([scheme, separator, t, suffix]) => [scheme, separator, t, suffix]),
    },
    { weight: 1, arbitrary: fc.tuple(token, token).map(([a, b]) => ['Bearer ', a, ', Bearer ', b]) },
    { weight: 1, arbitrary: headerString.map((text) => [text]) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Piece[]>(['Bearer'], ['Bearer '], [''], ['Basic'], ['Basic Og=='], ['Digest x']),
    },
  );

/** HTTP Basic for `/oauth/introspect`: the right client, wrong secrets, broken encodings. */
const basicAuthorization: fc.Arbitrary<Piece[]> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Piece[]>(['Basic ', new Secret('clientSecret', 0)]) },
  { weight: 1, arbitrary: mutation.map((change) => ['Basic ', new Secret('clientSecret', 0, change)]) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('Basic ', 'basic ', 'BASIC ', 'Basic  ', 'Basic\t', 'Bearer '),
        fc.oneof(
          hostileString.map((text) => Buffer.from(text, 'utf8').toString('base64')),
          fc
            .constantFrom('fuzz-rs:', ':', ':x', 'fuzz-rs', '%zz:%zz', 'fuzz-rs:%', '\xff\xfe:\x00')
            .map((text) => Buffer.from(text, 'latin1').toString('base64')),
          fc.constantFrom('!!!', '====', 'Og', ''),
        ),
      )
      .map(([scheme, value]) => [scheme, value]),
  },
);

/** `Cookie` header: the real cookie pair, garbage values, odd names and separators. */
const cookieHeader = (who: fc.Arbitrary<number>): fc.Arbitrary<Piece[]> =>
  fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.constantFrom('refresh_token', 'csrf_token', 'REFRESH_TOKEN', 'refresh_token ', 'other', '', '$Version'),
          fc.oneof(
            { weight: 3, arbitrary: secret(['cookieRefresh', 'csrf', 'refresh', 'previousRefresh'], who) },
            { weight: 2, arbitrary: headerString.filter((text) => !text.includes(';')) },
            { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%zz', '"', '""', '"abc', '%00', 'j:{}') },
          ),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      fc.constantFrom('; ', ';', ', ', ' ; '),
    )
    .map(([pairs, separator]) =>
      pairs.flatMap(([name, value], i) => [...(i > 0 ? [separator] : []), ...(name ? [`${name}=`] : []), value]),
    );

/** The browser transport done right for one account: both cookies and the matching CSRF header. */
const cookieSession = (who: fc.Arbitrary<number>): fc.Arbitrary<Array<[string, Piece[]]>> =>
  fc
    .tuple(who, mutation, fc.constantFrom('X-CSRF-Token', 'x-csrf-token', 'X-XSRF-Token'))
    .map(([owner, change, header]) => [
      [
        'Cookie',
        ['refresh_token=', new Secret('cookieRefresh', owner, change), '; csrf_token=', new Secret('csrf', owner)],
      ],
      [header, [new Secret('csrf', owner)]],
    ]);

// ---------------------------------------------------------------------------------------------
// Bodies

const emailVariant = fc.constantFrom('none', 'none', 'upper', 'spaces', 'tabs') as fc.Arbitrary<Value['variant']>;
const accountEmail = fc.tuple(account, emailVariant).map(([owner, variant]) => new Value('email', owner, variant));
const freshEmail = fc
  .tuple(fc.stringMatching(/^[a-z0-9]{6,12}$/), fc.constantFrom('example.com', 'EXAMPLE.com', 'xn--bcher-kva.example'))
  .map(([local, domain]) => `fuzz-${local}@${domain}`);
const oddEmail = fc.oneof(
  fc.emailAddress(),
  fc.constantFrom('a@b', '@', 'a@', '@b.c', 'a@@b.c', 'a b@c.d', 'ann@example.com.', '"a"@b.co', 'ann@[127.0.0.1]'),
  hostileString.map((text) => `${text}@example.com`),
  hostileString.map((text) => `ann@${text}.com`),
);
const email = fc.oneof(
  { weight: 3, arbitrary: accountEmail as fc.Arbitrary<Template> },
  { weight: 2, arbitrary: freshEmail },
  { weight: 2, arbitrary: oddEmail },
);
const goodPassword = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9 ]{8,40}$/),
  fc.string({ minLength: 8, maxLength: 40 }),
  fc.constantFrom('correct horse battery', 'пароль-пароль-пароль', '😀😀😀😀😀😀😀😀', 'x'.repeat(128)),
);
const password = (who: fc.Arbitrary<number>) =>
  fc.oneof(
    { weight: 3, arbitrary: secret(['password'], who) as fc.Arbitrary<Template> },
    { weight: 2, arbitrary: goodPassword },
  );

/** A field: its valid value mostly, sometimes a hostile one. */
const field = (valid: fc.Arbitrary<Template>): fc.Arbitrary<Template> =>
  fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: hostileValue });

/** Names a body must not have. */
const unknownFieldName = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'role', 'roles', 'isAdmin', 'Email', 'email ', ''),
  hostileString,
);

/** An object body of the given fields (each may be left out, made hostile, or repeated) plus unknown ones. */
const shaped = (fields: Record<string, fc.Arbitrary<Template>>): fc.Arbitrary<Template> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .record(fields as Record<string, fc.Arbitrary<Template>>)
        .map((values) => new Obj(Object.entries(values) as Array<[string, Template]>) as Template),
    },
    { weight: 2, arbitrary: mangled(fields) },
  );

/** The fields of a body, each maybe left out or made hostile, maybe repeated, plus unknown ones. */
const mangled = (fields: Record<string, fc.Arbitrary<Template>>): fc.Arbitrary<Template> =>
  fc
    .tuple(
      fc.record(
        Object.fromEntries(Object.entries(fields).map(([name, valid]) => [name, field(valid)])) as Record<
          string,
          fc.Arbitrary<Template>
        >,
        { requiredKeys: [] },
      ),
      fc.oneof(
        { weight: 6, arbitrary: fc.constant([] as Array<[string, Template]>) },
        { weight: 1, arbitrary: fc.array(fc.tuple(unknownFieldName, hostileValue), { minLength: 1, maxLength: 3 }) },
      ),
      fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    )
    .map(([known, unknown, repeat]) => {
      const entries = Object.entries(known) as Array<[string, Template]>;
      return new Obj([...entries, ...(repeat ? entries.slice(0, 1) : []), ...unknown]);
    });

/** A body that is no object: other JSON roots, nesting at the root. */
const oddRoot: fc.Arbitrary<Template> = fc.oneof(hostileValue, deepArb(), fc.constantFrom(null, [], 0, '', true));

/** Broken or odd JSON text. */
const oddJsonText: fc.Arbitrary<Piece[]> = fc.oneof(
  fc
    .constantFrom(
      '',
      '{',
      '}',
      '{"email":',
      '{"a":1}garbage',
      '{"a":1}{"b":2}',
      "{'a':1}",
      '{"a":1,}',
      '[',
      'nul',
      '"\\ud800"',
      '"\\u0000"',
      '{"\\ud800":1}',
      '{"email":"\\udfff@example.com","password":"x"}',
      '\ufeff{}',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '1e400',
      '{"a":' + '['.repeat(3000),
    )
    .map((text) => [text]),
  hostileString.map((text) => [text]),
  refreshToken(user).map((token) => ['{"refresh_token":"', token, '"']),
);

/** The content types sent with a body. */
const contentType = (natural: string): fc.Arbitrary<string | null> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(natural) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=UTF-8',
        'application/json;charset="utf-8"',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'application/json; charset=ascii',
        'application/json; charset=koi8-r',
        'application/json; charset=foo',
        'application/json; charset=',
        'application/json; charset',
        'application/json; boundary=x; charset=utf-8',
        'APPLICATION/JSON',
        'application/vnd.api+json',
        'application/merge-patch+json',
        'text/json',
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded; charset=utf-8',
        'application/x-www-form-urlencoded; charset=iso-8859-1',
        'application/x-www-form-urlencoded; charset=foo',
        'text/plain',
        'text/plain; charset=utf-8',
        'multipart/form-data; boundary=xyz',
        'application/octet-stream',
        '*/*',
        'json',
        ';',
        '',
      ),
    },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: headerString },
  );

/** A body of an endpoint: mostly its own shape in its natural encoding, sometimes anything. */
const bodyOf = (
  shape: fc.Arbitrary<Template>,
  natural: 'json' | 'form',
): fc.Arbitrary<{ body: BodySpec; contentType: string | null }> => {
  const naturalType = natural === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
  const asBody = (value: Template): BodySpec =>
    natural === 'form' && value instanceof Obj ? { kind: 'form', fields: value.entries } : { kind: 'json', value };
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .tuple(shape, contentType(naturalType))
        .map(([value, type]) => ({ body: asBody(value), contentType: type })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(oddRoot, contentType('application/json'))
        .map(([value, type]) => ({ body: { kind: 'json', value } as BodySpec, contentType: type })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          oddJsonText,
          fc.constantFrom('utf8', 'latin1') as fc.Arbitrary<'utf8' | 'latin1'>,
          contentType(naturalType),
        )
        .map(([pieces, encoding, type]) => ({
          body: { kind: 'raw', pieces, encoding } as BodySpec,
          contentType: type,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }), contentType(naturalType))
        .map(([bytes, type]) => ({ body: { kind: 'bytes', bytes } as BodySpec, contentType: type })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(16_000, 16_384, 16_385, 17_000, 40_000),
          fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'),
        )
        .map(([size, type]) => ({
          body: {
            kind: 'raw',
            pieces: [`{"email":"${'a'.repeat(Math.max(0, size - 12))}"}`],
            encoding: 'utf8',
          } as BodySpec,
          contentType: type as string | null,
        })),
    },
    { weight: 2, arbitrary: fc.constant({ body: { kind: 'none' } as BodySpec, contentType: null }) },
  );
};

/** An OAuth form, written raw: odd percent-encodings, repeated and bracketed parameters. */
const rawForm = (parameters: fc.Arbitrary<Piece[]>): fc.Arbitrary<{ body: BodySpec; contentType: string | null }> =>
  fc
    .tuple(
      fc.array(
        fc.oneof(
          parameters,
          fc
            .constantFrom(
              'grant_type=refresh_token',
              'grant_type=password',
              'grant_type=',
              'grant_type[]=refresh_token',
              'grant_type=refresh_token&grant_type=refresh_token',
              'token_type_hint=access_token',
              'token_type_hint=%zz',
              'scope=%ff',
              'scope=notes%3Aread',
              'token=%',
              'token=%E0%A4%A',
              'token=%00',
              'refresh_token=%ED%A0%80',
              'a[b][c]=d',
              '=',
              '&&',
              '+',
              '%',
            )
            .map((text) => [text]),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      contentType('application/x-www-form-urlencoded'),
    )
    .map(([parts, type]) => ({
      body: { kind: 'raw', pieces: parts.flatMap((part, i) => (i > 0 ? ['&', ...part] : part)), encoding: 'utf8' },
      contentType: type,
    }));

// ---------------------------------------------------------------------------------------------
// Paths, queries, methods, headers

const oddPathSuffix = fc.constantFrom(
  '/',
  '//',
  '/.',
  '/..',
  '%00',
  '%',
  '%zz',
  ';a=b',
  '%2F',
  '/%2e%2e',
  '.json',
  '/x',
  '%20',
  '~',
  '%E0%A4%A',
  '%ED%A0%80',
  '%C0%AF',
  '#frag',
);

/** A path, as is mostly; else with odd encodings, suffixes, case or dot segments around it. */
const pathVariant = (base: Piece[]): fc.Arbitrary<Piece[]> =>
  fc.oneof(
    { weight: 40, arbitrary: fc.constant(base) },
    { weight: 1, arbitrary: oddPathSuffix.map((suffix) => [...base, suffix]) },
    { weight: 1, arbitrary: fc.nat().map((at) => percentEncodeOneLetter(base, at)) },
    {
      weight: 1,
      arbitrary: fc.constant(base.map((piece) => (typeof piece === 'string' ? piece.toUpperCase() : piece))),
    },
    { weight: 1, arbitrary: fc.constantFrom('/', '/x/..', '/%2e%2e', '/.').map((prefix) => [prefix, ...base]) },
  );

function percentEncodeOneLetter(base: Piece[], at: number): Piece[] {
  const first = base[0];
  if (typeof first !== 'string' || first.length < 2) return base;
  const i = 1 + (at % (first.length - 1));
  const code = first.charCodeAt(i).toString(16).toUpperCase().padStart(2, '0');
  return [first.slice(0, i) + `%${code}` + first.slice(i + 1), ...base.slice(1)];
}

/** A path parameter: a real id, another's, a random UUID, or odd encodings. */
const idParam = (real: fc.Arbitrary<Piece>): fc.Arbitrary<Piece> =>
  fc.oneof(
    { weight: 6, arbitrary: real },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.uuid().map((id) => id.toUpperCase()) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%00', '%2F', '..', '%2e%2e'),
    },
    { weight: 1, arbitrary: fc.constantFrom('00000000-0000-0000-0000-000000000000', 'undefined', 'null', '-1', '0') },
    { weight: 2, arbitrary: hostileString.map(percentEncodeText) },
  );

/** Percent-encodes every UTF-16 unit's UTF-8 bytes; a lone surrogate becomes its (invalid) 3-byte form. */
export function percentEncodeText(text: string): string {
  let out = '';
  for (const unit of text.split('')) {
    const code = unit.charCodeAt(0);
    const bytes =
      code >= 0xd800 && code <= 0xdfff
        ? [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        : [...Buffer.from(unit, 'utf8')];
    out += bytes.map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out.slice(0, 3000);
}

const limitValue = fc.oneof(
  fc.integer({ min: 1, max: 100 }).map(String),
  fc.constantFrom(
    '',
    '0',
    '-1',
    '101',
    '1.5',
    '1e2',
    '0x10',
    ' 5',
    '5 ',
    '+5',
    'abc',
    '%00',
    '%zz',
    '9'.repeat(30),
    'NaN',
  ),
  hostileString.map(percentEncodeText),
);
const cursorValue = fc.oneof(
  fc.nat({ max: 10_000 }).map(String),
  fc.constantFrom('', '-1', '0', 'abc', '1'.repeat(16), '9'.repeat(15), '0x10', '1e3', ' 1', '%00', '%zz', '%E0%A4%A'),
  hostileString.map(percentEncodeText),
);

/** The events query: limit and cursor garbage, repeated and bracketed. */
const eventsQuery: fc.Arbitrary<Piece[] | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc.oneof(
          limitValue.map((value) => `limit=${value}`),
          cursorValue.map((value) => `cursor=${value}`),
          fc.constantFrom('limit[]=1', 'limit[a]=1', 'cursor[]=1', 'limit', 'cursor', '=', '&', 'other=1', '%zz=1'),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((parts) => [parts.join('&')]),
  },
);

/** A query string on any route: none mostly, else garbage or a token where no token belongs. */
const anyQuery: fc.Arbitrary<Piece[] | null> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(null) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Piece[]>(
      ['a=1'],
      ['%zz'],
      ['a=%E0%A4%A'],
      [''],
      ['&&&'],
      ['a[b]=c'],
      ['x='.repeat(500)],
    ),
  },
  { weight: 1, arbitrary: secret(['access', 'refresh']).map((token) => ['access_token=', token]) },
);

/** The method: the endpoint's own mostly; else any other, including ones Node's parser refuses. */
const methodVariant = (own: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 30, arbitrary: fc.constant(own) },
    { weight: 3, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
    { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'SEARCH', 'FOO') },
  );

/** `arbitrary` once in `oneIn` times, else `null`. */
function rarely<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** Headers of the other kinds, each mostly absent. */
const extraHeaders: fc.Arbitrary<Array<[string, Piece[]]>> = fc
  .tuple(
    rarely(
      fc.constantFrom('cookie', 'COOKIE', 'Cookie ', 'body', '', 'cookie, cookie').map((v) => [v]),
      6,
    ),
    rarely(
      fc.oneof(
        secret(['csrf']).map((v) => [v]),
        headerString.map((v) => [v]),
      ),
      8,
    ),
    rarely(
      headerString.map((v) => [v]),
      10,
    ),
    rarely(
      fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-foo', 'gzip, gzip', 'GZIP', '').map((v) => [v]),
      30,
    ),
    rarely(
      fc.constantFrom('100-continue', 'foo', '').map((v) => [v]),
      40,
    ),
    rarely(
      fc.tuple(headerName, headerString).map(([name, value]) => [name, value] as const),
      8,
    ),
    rarely(
      fc
        .oneof(
          fc.constantFrom('203.0.113.7', 'garbage', '::1, 10.0.0.1', '', '999.999.999.999', '1.2.3.4, '.repeat(300)),
          fc.ipV4(),
          fc.ipV6(),
          headerString,
        )
        .map((v) => [v]),
      6,
    ),
    rarely(
      fc.constantFrom('https://app.example', 'null', 'https://evil.example', '*').map((v) => [v]),
      15,
    ),
    rarely(fc.constantFrom('<none>', '', 'evil.example', 'auth.test:443', '[::1]', 'a b', 'x'.repeat(300)), 30),
    rarely(fc.oneof(fc.constantFrom('req-1', 'a'.repeat(128), 'a'.repeat(129), 'id with spaces'), headerString), 8),
  )
  .map(([transport, csrf, agent, encoding, expect, other, forwarded, origin, host, requestId]) => {
    const headers: Array<[string, Piece[]]> = [];
    if (transport) headers.push(['X-Token-Transport', transport]);
    if (csrf) headers.push(['X-CSRF-Token', csrf]);
    if (agent) headers.push(['User-Agent', agent]);
    if (encoding) headers.push(['Content-Encoding', encoding]);
    if (expect) headers.push(['Expect', expect]);
    if (other) headers.push([other[0], [other[1]]]);
    if (forwarded) headers.push(['X-Forwarded-For', forwarded]);
    if (origin) headers.push(['Origin', origin]);
    if (host !== null) headers.push(['Host', [host]]);
    if (requestId !== null) headers.push(['X-Request-Id', [requestId]]);
    return headers;
  });

// ---------------------------------------------------------------------------------------------
// Endpoints

/** What an endpoint asks of its caller, and so which credentials its requests lean to. */
type Credential = 'bearer' | 'admin' | 'refresh' | 'basic' | 'none';

interface Endpoint {
  route: string;
  method: string;
  credential: Credential;
  path: (actor: number) => fc.Arbitrary<Piece[]>;
  body?: (actor: number) => fc.Arbitrary<{ body: BodySpec; contentType: string | null }>;
  query?: fc.Arbitrary<Piece[] | null>;
}

const fixed = (path: string) => () => fc.constant([path] as Piece[]);
const emptyBody = () =>
  bodyOf(
    shaped({}).map((body) => body),
    'json',
  );
const refreshBody = (actor: number) => bodyOf(shaped({ refresh_token: refreshToken(fc.constant(actor)) }), 'json');
const tokenForm = (actor: number) => {
  const me = fc.constant(actor);
  const parameters = shaped({
    grant_type: fc.oneof(
      { weight: 8, arbitrary: fc.constant('refresh_token') },
      { weight: 1, arbitrary: fc.constantFrom('password', 'client_credentials', 'REFRESH_TOKEN', 'refresh_token ') },
    ),
    refresh_token: refreshToken(me),
    scope: fc.constantFrom(
      'notes:read',
      'notes:read notes:write',
      'notes:write admin',
      '',
      ' ',
      'notes:read  notes:read',
    ),
  });
  return fc.oneof(
    { weight: 5, arbitrary: bodyOf(parameters, 'form') },
    {
      weight: 1,
      arbitrary: rawForm(refreshToken(me).map((token) => ['grant_type=refresh_token&refresh_token=', token])),
    },
  );
};
const revocationForm = (actor: number) => {
  const token = fc.oneof(refreshToken(fc.constant(actor)), accessToken(fc.constant(actor)));
  const parameters = shaped({
    token,
    token_type_hint: fc.constantFrom('refresh_token', 'access_token', 'id_token', ''),
  });
  return fc.oneof(
    { weight: 5, arbitrary: bodyOf(parameters, 'form') },
    { weight: 1, arbitrary: rawForm(token.map((t) => ['token=', t])) },
  );
};

const ENDPOINTS: Endpoint[] = [
  {
    route: 'POST /auth/register',
    method: 'POST',
    credential: 'none',
    path: fixed('/auth/register'),
    body: () =>
      bodyOf(
        shaped({
          email,
          password: goodPassword,
          name: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('', 'x'.repeat(201))),
        }),
        'json',
      ),
  },
  {
    route: 'POST /auth/login',
    method: 'POST',
    credential: 'none',
    path: fixed('/auth/login'),
    body: (actor) =>
      bodyOf(
        shaped({
          email: fc.oneof(
            { weight: 4, arbitrary: emailVariant.map((variant) => new Value('email', actor, variant)) },
            { weight: 1, arbitrary: email },
          ),
          password: password(fc.constant(actor)),
        }),
        'json',
      ),
  },
  {
    route: 'POST /auth/refresh',
    method: 'POST',
    credential: 'refresh',
    path: fixed('/auth/refresh'),
    body: refreshBody,
  },
  { route: 'POST /auth/logout', method: 'POST', credential: 'refresh', path: fixed('/auth/logout'), body: refreshBody },
  {
    route: 'POST /auth/logout-all',
    method: 'POST',
    credential: 'bearer',
    path: fixed('/auth/logout-all'),
    body: emptyBody,
  },
  { route: 'GET /auth/me', method: 'GET', credential: 'bearer', path: fixed('/auth/me') },
  { route: 'GET /auth/sessions', method: 'GET', credential: 'bearer', path: fixed('/auth/sessions') },
  {
    route: 'DELETE /auth/sessions/:id',
    method: 'DELETE',
    credential: 'bearer',
    path: (actor) =>
      idParam(
        fc
          .tuple(
            fc.constantFrom('sessionId', 'cookieSessionId') as fc.Arbitrary<ValueKind>,
            fc.oneof(fc.constant(actor), account),
          )
          .map(([kind, owner]) => new Value(kind, owner)),
      ).map((id) => ['/auth/sessions/', id]),
  },
  {
    route: 'POST /auth/password',
    method: 'POST',
    credential: 'bearer',
    path: fixed('/auth/password'),
    body: (actor) =>
      bodyOf(
        shaped({
          currentPassword: password(fc.constant(actor)),
          newPassword: fc.oneof(goodPassword, fc.constantFrom('short', 'x'.repeat(129))),
        }),
        'json',
      ),
  },
  { route: 'GET /auth/events', method: 'GET', credential: 'bearer', path: fixed('/auth/events'), query: eventsQuery },
  {
    route: 'POST /admin/users/:id/revoke-sessions',
    method: 'POST',
    credential: 'admin',
    path: () =>
      idParam(user.map((owner) => new Value('userId', owner))).map((id) => ['/admin/users/', id, '/revoke-sessions']),
    body: emptyBody,
  },
  { route: 'GET /.well-known/jwks.json', method: 'GET', credential: 'none', path: fixed('/.well-known/jwks.json') },
  {
    route: 'GET /.well-known/oauth-authorization-server',
    method: 'GET',
    credential: 'none',
    path: fixed('/.well-known/oauth-authorization-server'),
  },
  { route: 'POST /oauth/token', method: 'POST', credential: 'none', path: fixed('/oauth/token'), body: tokenForm },
  {
    route: 'POST /oauth/revoke',
    method: 'POST',
    credential: 'none',
    path: fixed('/oauth/revoke'),
    body: revocationForm,
  },
  {
    route: 'POST /oauth/introspect',
    method: 'POST',
    credential: 'basic',
    path: fixed('/oauth/introspect'),
    body: revocationForm,
  },
  { route: 'GET /health', method: 'GET', credential: 'none', path: fixed('/health') },
  { route: 'GET /health/live', method: 'GET', credential: 'none', path: fixed('/health/live') },
  { route: 'GET /health/ready', method: 'GET', credential: 'none', path: fixed('/health/ready') },
  { route: 'GET /notes', method: 'GET', credential: 'bearer', path: fixed('/notes') },
  {
    route: 'POST /notes',
    method: 'POST',
    credential: 'bearer',
    path: fixed('/notes'),
    body: () =>
      bodyOf(
        shaped({
          title: fc.oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.constantFrom('', 'x'.repeat(201))),
          body: fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('', 'y'.repeat(10_001))),
        }),
        'json',
      ),
  },
  {
    route: 'GET /notes/:id',
    method: 'GET',
    credential: 'bearer',
    path: () => idParam(account.map((owner) => new Value('noteId', owner))).map((id) => ['/notes/', id]),
  },
  {
    route: 'DELETE /notes/:id',
    method: 'DELETE',
    credential: 'bearer',
    path: () => idParam(account.map((owner) => new Value('noteId', owner))).map((id) => ['/notes/', id]),
  },
  { route: 'GET /admin/notes', method: 'GET', credential: 'admin', path: fixed('/admin/notes') },
  { route: 'GET /auth/nowhere', method: 'GET', credential: 'none', path: fixed('/auth/nowhere') },
];

/** Every route the suite covers, as `METHOD /path` (the contract's endpoints plus a 404). */
export const ROUTES: readonly string[] = ENDPOINTS.map((endpoint) => endpoint.route);

/** Header lists, one header of a name. */
type Headers = Array<[string, Piece[]]>;
const header =
  (name: string) =>
  (value: Piece[]): Headers => [[name, value]];
const noHeaders = fc.constant<Headers>([]);

/** The headers of a request for an endpoint: credentials that fit it mostly, then everything else. */
function headersFor(endpoint: Endpoint, actor: number): fc.Arbitrary<Headers> {
  const me = fc.constant(actor);
  const bearer = authorization(accessToken(me)).map(header('Authorization'));
  const own: fc.Arbitrary<Headers> =
    endpoint.credential === 'bearer' || endpoint.credential === 'admin'
      ? fc.oneof(
          { weight: 6, arbitrary: fc.constant(header('Authorization')(['Bearer ', new Secret('access', actor)])) },
          { weight: 5, arbitrary: bearer },
          { weight: 1, arbitrary: noHeaders },
        )
      : endpoint.credential === 'refresh'
        ? fc.oneof(
            { weight: 3, arbitrary: noHeaders },
            { weight: 2, arbitrary: cookieSession(me) },
            { weight: 1, arbitrary: cookieHeader(me).map(header('Cookie')) },
            { weight: 2, arbitrary: bearer },
          )
        : endpoint.credential === 'basic'
          ? fc.oneof(
              { weight: 5, arbitrary: basicAuthorization.map(header('Authorization')) },
              { weight: 1, arbitrary: noHeaders },
            )
          : fc.oneof(
              { weight: 8, arbitrary: noHeaders },
              { weight: 1, arbitrary: bearer },
              { weight: 1, arbitrary: cookieHeader(me).map(header('Cookie')) },
            );
  const stray = rarely(cookieHeader(me), 10).map((cookie) => (cookie ? header('Cookie')(cookie) : []));
  return fc
    .tuple(own, stray, extraHeaders)
    .map(([mine, cookie, extra]) => [...mine, ...(mine.some(([name]) => name === 'Cookie') ? [] : cookie), ...extra]);
}

/** The routes behind the login and request limits. */
const CREDENTIAL_ROUTES = new Set(['POST /auth/register', 'POST /auth/login', 'POST /auth/password']);

function requestFor(endpoint: Endpoint): fc.Arbitrary<RequestSpec> {
  const actors = endpoint.credential === 'admin' ? fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, user) : user;
  return actors.chain((actor) =>
    fc
      .record({
        // The default limits count failed logins and password changes: those go there more often.
        target: fc.oneof(
          { weight: CREDENTIAL_ROUTES.has(endpoint.route) ? 7 : 9, arbitrary: fc.constant('main' as const) },
          { weight: CREDENTIAL_ROUTES.has(endpoint.route) ? 3 : 1, arbitrary: fc.constant('limited' as const) },
        ),
        method: methodVariant(endpoint.method),
        path: endpoint.path(actor).chain(pathVariant),
        query: endpoint.query ?? anyQuery,
        headers: headersFor(endpoint, actor),
        body: endpoint.body ? endpoint.body(actor) : rarely(emptyBody(), 8),
        chunked: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      })
      .map(({ body, headers, ...rest }) => {
        const sent = body ?? { body: { kind: 'none' } as BodySpec, contentType: null };
        return {
          ...rest,
          route: endpoint.route,
          headers: sent.contentType === null ? headers : [['Content-Type', [sent.contentType]], ...headers],
          body: sent.body,
        } as RequestSpec;
      }),
  );
}

/** One generated request for any endpoint of the contract, every endpoint equally likely. */
export const anyRequest: fc.Arbitrary<RequestSpec> = fc.oneof(...ENDPOINTS.map(requestFor));
