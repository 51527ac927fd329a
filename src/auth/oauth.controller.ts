import { Body, Controller, Get, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Client, type ClientContext } from '../common/client-context.js';
import {
  ApiBasicAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '../common/swagger.js';
import { AUTH_CONFIG, AUTH_ROUTES } from './auth.constants.js';
import type { AuthConfig } from './auth-options.js';
import type { AuthRoutesOptions } from './auth-options.interface.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { Public } from './decorators/public.decorator.js';
import { TokenResponseDto } from './dto/responses.dto.js';
import { mountPrefix, requestOrigin } from './mount-path.js';
import { OAuthService, type IntrospectionResponse, type OAuthParameters } from './oauth.service.js';

const METADATA_PATH = '/.well-known/oauth-authorization-server';

const FORM = 'application/x-www-form-urlencoded';
const OAUTH_ERROR = {
  schema: {
    type: 'object',
    properties: { error: { type: 'string', example: 'invalid_grant' }, error_description: { type: 'string' } },
  },
};

function formBody(properties: Record<string, object>, required: string[]) {
  return ApiBody({ schema: { type: 'object', properties, required } });
}

/** OAuth 2.0 endpoints for standard client libraries; errors in RFC 6749 §5.2 form. */
@ApiTags('oauth')
@Public()
@AuthRoutes({ oauth: true })
@Controller()
export class OAuthController {
  constructor(
    @Inject(AUTH_CONFIG) private readonly options: AuthConfig,
    @Inject(AUTH_ROUTES) private readonly routes: Required<AuthRoutesOptions>,
    private readonly oauth: OAuthService,
  ) {}

  @Get('.well-known/oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  @Header('Vary', 'Host, X-Forwarded-Host, X-Forwarded-Proto')
  @ApiOperation({ summary: 'Authorization server metadata (RFC 8414): absolute URLs of the endpoints as mounted' })
  @ApiOkResponse({ description: 'The metadata document' })
  metadata(@Req() request: Request): Record<string, unknown> {
    // publicUrl when set; else this request's origin (through trust proxy) and where we are mounted.
    const base = this.options.publicUrl ?? `${requestOrigin(request)}${mountPrefix(request, METADATA_PATH)}`;
    return {
      issuer: this.options.issuer,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      introspection_endpoint: `${base}/oauth/introspect`,
      ...(this.routes.jwks ? { jwks_uri: `${base}/.well-known/jwks.json` } : {}),
      grant_types_supported: ['refresh_token'],
      response_types_supported: [],
      scopes_supported: this.options.defaultScopes,
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    };
  }

  @Post('oauth/token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({ summary: 'Refresh (RFC 6749 §6): rotates the refresh token like /auth/refresh' })
  @ApiConsumes(FORM)
  @formBody(
    {
      grant_type: { type: 'string', enum: ['refresh_token'], example: 'refresh_token' },
      refresh_token: {
        type: 'string',
        example: '0b6f1f7e-3c1a-4d5e-9f00-4b7c2a1e9d10.q7Yh0mXo2mQ8d3vK9sTq4kQ0c6x1Yy1z3r2n5b8a7c0',
      },
      scope: { type: 'string', description: 'Optional: a subset of the session scope', example: 'notes:read' },
    },
    ['grant_type', 'refresh_token'],
  )
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiResponse({
    status: 400,
    description: '`invalid_request`, `invalid_grant`, `invalid_scope`, `unsupported_grant_type`',
    ...OAUTH_ERROR,
  })
  token(@Body() body: OAuthParameters, @Client() client: ClientContext): Promise<TokenResponseDto> {
    return this.oauth.token(body ?? {}, client);
  }

  @Post('oauth/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: "Revocation (RFC 7009): ends the token's session; 200 even for an unknown token" })
  @ApiConsumes(FORM)
  @formBody(
    {
      token: { type: 'string', description: 'A refresh token or an access token' },
      token_type_hint: { type: 'string', enum: ['refresh_token', 'access_token'] },
    },
    ['token'],
  )
  @ApiOkResponse({ description: 'Revoked, or nothing to revoke' })
  @ApiResponse({ status: 400, description: '`invalid_request`', ...OAUTH_ERROR })
  async revoke(@Body() body: OAuthParameters, @Client() client: ClientContext): Promise<void> {
    await this.oauth.revoke(body ?? {}, client);
  }

  @Post('oauth/introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiBasicAuth('introspection_client')
  @ApiOperation({ summary: 'Introspection (RFC 7662), for the clients of OAUTH_INTROSPECTION_CLIENTS (HTTP Basic)' })
  @ApiConsumes(FORM)
  @formBody(
    {
      token: { type: 'string', description: 'A refresh token or an access token' },
      token_type_hint: { type: 'string', enum: ['refresh_token', 'access_token'] },
    },
    ['token'],
  )
  @ApiOkResponse({
    description: '`{active: false}` for anything not live, else `active, sub, sid, exp, iat, scope, token_type`',
    schema: {
      type: 'object',
      example: {
        active: true,
        token_type: 'access_token',
        sub: '6f1d…',
        sid: '5d0c…',
        scope: 'notes:read',
        iat: 1795594017,
        exp: 1795594917,
      },
    },
  })
  @ApiResponse({ status: 401, description: '`invalid_client`', ...OAUTH_ERROR })
  introspect(@Req() request: Request, @Body() body: OAuthParameters): Promise<IntrospectionResponse> {
    return this.oauth.introspect(request.get('authorization'), body ?? {});
  }
}
