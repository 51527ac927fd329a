import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthModuleOptions } from './auth-module-options.interface.js';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition.js';
import { Public } from './decorators/public.decorator.js';
import { JwksResponseDto } from './dto/responses.dto.js';

/** Public verification keys for other services (RFC 7517). */
@ApiTags('keys')
@Public()
@Controller('.well-known')
export class JwksController {
  private readonly jwks: JwksResponseDto;

  constructor(@Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions) {
    this.jwks = { keys: options.keys.jwks };
  }

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'The public keys that verify access tokens, current and previous' })
  @ApiOkResponse({ type: JwksResponseDto })
  keys(): JwksResponseDto {
    return this.jwks;
  }
}
