import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { Client, type ClientContext } from '../common/client-context.js';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/swagger.js';
import { uuidParam } from '../common/validation.pipe.js';
import type { AuthUser } from './auth-user.interface.js';
import { AuthService } from './auth.service.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { CurrentUser } from './decorators/current-user.decorator.js';
import { SessionResponseDto } from './dto/responses.dto.js';

/** The caller's sessions: list and revoke one (`routes.sessions: false` leaves them out). */
@ApiTags('auth')
@ApiBearerAuth()
@AuthRoutes()
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly auth: AuthService) {}

  @Get()
  @ApiOperation({ summary: 'The live sessions of the caller' })
  @ApiOkResponse({ type: [SessionResponseDto] })
  @ApiErrors('token_missing', 'token_invalid', 'token_expired', 'token_revoked')
  sessions(@CurrentUser() user: AuthUser): Promise<SessionResponseDto[]> {
    return this.auth.sessions(user);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: "Revoke one of the caller's sessions" })
  @ApiNoContentResponse({ description: 'The session is revoked (also when it already was).' })
  @ApiErrors('validation_failed', 'token_missing', 'token_invalid', 'token_expired', 'token_revoked', 'not_found')
  async revokeSession(
    @CurrentUser() user: AuthUser,
    @Param('id', uuidParam('id')) id: string,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.auth.revokeSession(user, id, client);
  }
}
