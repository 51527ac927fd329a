import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../common/swagger.js';
import { AUTH_CONFIG } from './auth.constants.js';
import type { AuthConfig } from './auth-options.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { Public } from './decorators/public.decorator.js';
import { JwksResponseDto } from './dto/responses.dto.js';

/** Public verification keys for other services (RFC 7517); `routes.jwks: false` leaves it out. */
@ApiTags('keys')
@Public()
@AuthRoutes()
@Controller('.well-known')
export class JwksController {
  private readonly jwks: JwksResponseDto;

  constructor(@Inject(AUTH_CONFIG) config: AuthConfig) {
    this.jwks = { keys: config.keys.jwks };
  }

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'The public keys that verify access tokens, current and previous' })
  @ApiOkResponse({ type: JwksResponseDto })
  keys(): JwksResponseDto {
    return this.jwks;
  }
}
