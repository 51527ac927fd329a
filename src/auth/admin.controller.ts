import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { Client, type ClientContext } from '../common/client-context.js';
import { EmptyBodyDto } from '../common/empty-body.dto.js';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '../common/swagger.js';
import { userIdParam } from '../common/validation.pipe.js';
import { AuthService } from './auth.service.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { Roles } from './decorators/roles.decorator.js';

/** Administration of other users' sessions (`routes.admin: false` leaves it out). */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@AuthRoutes()
@Controller('admin')
export class AdminController {
  constructor(private readonly auth: AuthService) {}

  @Post('users/:id/revoke-sessions')
  @HttpCode(204)
  @ApiOperation({ summary: "Revoke every session of a user (role 'admin')" })
  @ApiNoContentResponse({ description: 'Every session of the user is revoked.' })
  @ApiErrors(
    'validation_failed',
    'token_missing',
    'token_invalid',
    'token_expired',
    'token_revoked',
    'insufficient_role',
    'not_found',
  )
  async revokeSessions(
    @Param('id', userIdParam('id')) id: string,
    @Body() _body: EmptyBodyDto,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.auth.adminRevokeSessions(id, client);
  }
}
