import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { uuidParam } from '../common/validation.pipe.js';
import { Client, type ClientContext } from '../common/client-context.js';
import { EmptyBodyDto } from '../common/empty-body.dto.js';
import { AuthService } from './auth.service.js';
import { Roles } from './decorators/roles.decorator.js';

/** Administration of other users' sessions. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
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
    @Param('id', uuidParam('id')) id: string,
    @Body() _body: EmptyBodyDto,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.auth.adminRevokeSessions(id, client);
  }
}
