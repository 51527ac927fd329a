// @nestjs/swagger is an optional peer: a host without it must still load every controller and
// DTO of ours. The decorators come from it when it is installed and do nothing otherwise. Their
// types are our own, so the shipped .d.ts files never name the package.

/** A decorator usable on classes, methods and properties alike. */
export type AnyDecorator = ClassDecorator & MethodDecorator & PropertyDecorator;
type Factory = (...args: any[]) => AnyDecorator; // eslint-disable-line @typescript-eslint/no-explicit-any

const swagger = (await import('@nestjs/swagger').catch(() => null)) as Record<string, unknown> | null;

const noop: AnyDecorator = () => undefined;

function pick(name: string): Factory {
  const found = swagger?.[name];
  return typeof found === 'function' ? (found as Factory) : () => noop;
}

/** Whether `@nestjs/swagger` is installed. */
export const SWAGGER_AVAILABLE = swagger !== null;

export const ApiBasicAuth = pick('ApiBasicAuth');
export const ApiBearerAuth = pick('ApiBearerAuth');
export const ApiBody = pick('ApiBody');
export const ApiConsumes = pick('ApiConsumes');
export const ApiCookieAuth = pick('ApiCookieAuth');
export const ApiCreatedResponse = pick('ApiCreatedResponse');
export const ApiHeader = pick('ApiHeader');
export const ApiNoContentResponse = pick('ApiNoContentResponse');
export const ApiOkResponse = pick('ApiOkResponse');
export const ApiOperation = pick('ApiOperation');
export const ApiProperty = pick('ApiProperty');
export const ApiPropertyOptional = pick('ApiPropertyOptional');
export const ApiResponse = pick('ApiResponse');
export const ApiTags = pick('ApiTags');

/** Names of the security schemes our routes reference. */
export const SECURITY_SCHEMES = {
  bearer: 'bearer',
  refreshCookie: 'refresh_cookie',
  introspectionClient: 'introspection_client',
} as const;

/** The part of `@nestjs/swagger`'s `DocumentBuilder` that {@link addAuthSecurity} calls. */
export interface SecuritySchemeBuilder {
  addBearerAuth(options?: object, name?: string): this;
  addCookieAuth(cookieName?: string, options?: object, securityName?: string): this;
  addBasicAuth(options?: object, name?: string): this;
}

/**
 * Defines on a host's Swagger `DocumentBuilder` every security scheme our routes reference
 * (bearer access token, refresh cookie, introspection client), so the document has no dangling
 * references.
 *
 * @example const config = addAuthSecurity(new DocumentBuilder().setTitle('My API')).build();
 */
export function addAuthSecurity<T extends SecuritySchemeBuilder>(builder: T): T {
  return builder
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The `access_token` of a login or refresh' },
      SECURITY_SCHEMES.bearer,
    )
    .addCookieAuth(
      'refresh_token',
      {
        type: 'apiKey',
        in: 'cookie',
        name: 'refresh_token',
        description: 'Browser mode: set by login/refresh with `X-Token-Transport: cookie`',
      },
      SECURITY_SCHEMES.refreshCookie,
    )
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'An `id:secret` of the introspection clients' },
      SECURITY_SCHEMES.introspectionClient,
    );
}
