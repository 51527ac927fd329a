import { Body, Controller, Post, UseGuards } from '@nestjs/common';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { Client, type ClientContext } from '../common/client-context.js';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '../common/swagger.js';
import { accountView, AuthService } from './auth.service.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { Public } from './decorators/public.decorator.js';
import { RegisterDto } from './dto/register.dto.js';
import { UserResponseDto } from './dto/responses.dto.js';
import { CredentialRateLimitGuard } from './guards/credential-rate-limit.guard.js';

/** `POST /auth/register`: open sign-up (`routes.register: false` leaves it out). */
@ApiTags('auth')
@AuthRoutes()
@Controller('auth')
export class RegisterController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @UseGuards(CredentialRateLimitGuard)
  @Post('register')
  @ApiOperation({ summary: 'Create an account' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiErrors('validation_failed', 'email_taken', 'payload_too_large', 'rate_limited')
  async register(@Body() dto: RegisterDto, @Client() client: ClientContext): Promise<UserResponseDto> {
    return accountView(await this.auth.register(dto, client));
  }
}
