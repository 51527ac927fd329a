import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { uuidParam } from '../common/validation.pipe.js';
import { AuthError } from '../common/auth.error.js';
import { Client, type ClientContext } from '../common/client-context.js';
import { EmptyBodyDto } from '../common/empty-body.dto.js';
import type { AuthUser } from './auth-user.interface.js';
import { AuthService } from './auth.service.js';
import { bearerToken } from './bearer-token.js';
import { CurrentUser } from './decorators/current-user.decorator.js';
import { Public } from './decorators/public.decorator.js';
import { CredentialRateLimitGuard } from './guards/credential-rate-limit.guard.js';
import { ChangePasswordDto } from './dto/change-password.dto.js';
import { EventsQueryDto } from './dto/events-query.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { RefreshTokenDto } from './dto/refresh-token.dto.js';
import { RegisterDto } from './dto/register.dto.js';
import { RefreshTokenTransport } from './refresh-token-transport.js';
import { SecurityEventPageDto, SessionResponseDto, TokenResponseDto, UserResponseDto } from './dto/responses.dto.js';

const TRANSPORT_HEADER_DOC = {
  name: 'X-Token-Transport',
  required: false,
  description:
    '`cookie`: the refresh token is set as an HttpOnly cookie (with a readable `csrf_token` cookie) instead of the body.',
};
const CSRF_HEADER_DOC = {
  name: 'X-CSRF-Token',
  required: false,
  description: 'Required when the refresh token comes by cookie: the value of the `csrf_token` cookie.',
};

/** Registration, login, refresh, logout, sessions and the security log. */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly transport: RefreshTokenTransport,
  ) {}

  @Public()
  @UseGuards(CredentialRateLimitGuard)
  @Post('register')
  @ApiOperation({ summary: 'Create an account' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiErrors('validation_failed', 'email_taken', 'payload_too_large', 'rate_limited')
  register(@Body() dto: RegisterDto, @Client() client: ClientContext): Promise<UserResponseDto> {
    return this.auth.register(dto.email, dto.password, dto.name ?? null, client);
  }

  @Public()
  @UseGuards(CredentialRateLimitGuard)
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Log in: starts a session and returns an access and a refresh token' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiHeader(TRANSPORT_HEADER_DOC)
  @ApiErrors('validation_failed', 'invalid_credentials', 'rate_limited')
  async login(
    @Body() dto: LoginDto,
    @Client() client: ClientContext,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokenResponseDto> {
    return this.transport.send(request, response, await this.auth.login(dto.email, dto.password, client));
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Rotate the refresh token: the presented one is used up, a new pair is returned' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiCookieAuth('refresh_cookie')
  @ApiHeader(TRANSPORT_HEADER_DOC)
  @ApiHeader(CSRF_HEADER_DOC)
  @ApiErrors(
    'validation_failed',
    'refresh_token_invalid',
    'refresh_token_expired',
    'refresh_token_revoked',
    'refresh_token_reused',
    'csrf_failed',
  )
  async refresh(
    @Body() dto: RefreshTokenDto,
    @Client() client: ClientContext,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokenResponseDto> {
    const presented = this.transport.read(request, dto.refresh_token);
    if (!presented) throw new AuthError('refresh_token_invalid', 'Refresh token is missing');
    return this.transport.send(request, response, await this.auth.refresh(presented.token, client), presented);
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({
    summary: 'End the current session',
    description: 'Identified by the refresh token in the body when there is one, else by the bearer access token.',
  })
  @ApiNoContentResponse({ description: 'The session is revoked; in cookie mode both cookies are cleared.' })
  @ApiCookieAuth('refresh_cookie')
  @ApiHeader(CSRF_HEADER_DOC)
  @ApiErrors('token_missing', 'token_invalid', 'token_expired', 'token_revoked', 'refresh_token_invalid', 'csrf_failed')
  async logout(
    @Body() dto: RefreshTokenDto,
    @Client() client: ClientContext,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const presented = this.transport.read(request, dto.refresh_token);
    if (presented?.viaCookie) this.transport.clear(response);
    await this.auth.logout({ refreshToken: presented?.token, accessToken: bearerToken(request) }, client);
  }

  @Post('logout-all')
  @HttpCode(204)
  @ApiOperation({ summary: 'End every session of the caller, this one included' })
  @ApiNoContentResponse({ description: 'Every session is revoked.' })
  @ApiErrors('token_missing', 'token_invalid', 'token_expired', 'token_revoked')
  async logoutAll(
    @CurrentUser() user: AuthUser,
    @Body() _body: EmptyBodyDto,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.auth.logoutAll(user, client);
  }

  @Get('me')
  @ApiOperation({ summary: 'The current user' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors('token_missing', 'token_invalid', 'token_expired', 'token_revoked')
  me(@CurrentUser() user: AuthUser): Promise<UserResponseDto> {
    return this.auth.me(user);
  }

  @Get('sessions')
  @ApiOperation({ summary: 'The live sessions of the caller' })
  @ApiOkResponse({ type: [SessionResponseDto] })
  @ApiErrors('token_missing', 'token_invalid', 'token_expired', 'token_revoked')
  sessions(@CurrentUser() user: AuthUser): Promise<SessionResponseDto[]> {
    return this.auth.sessions(user);
  }

  @Delete('sessions/:id')
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

  @Post('password')
  @UseGuards(CredentialRateLimitGuard)
  @HttpCode(204)
  @ApiOperation({ summary: 'Change the password; every other session is revoked, this one is kept' })
  @ApiNoContentResponse({ description: 'Changed.' })
  @ApiErrors('validation_failed', 'token_missing', 'token_invalid', 'token_expired', 'token_revoked', 'rate_limited')
  async changePassword(
    @CurrentUser() user: AuthUser,
    @Body() dto: ChangePasswordDto,
    @Client() client: ClientContext,
  ): Promise<void> {
    await this.auth.changePassword(user, dto.currentPassword, dto.newPassword, client);
  }

  @Get('events')
  @ApiOperation({ summary: "The caller's security log, newest first" })
  @ApiOkResponse({ type: SecurityEventPageDto })
  @ApiErrors('validation_failed', 'token_missing', 'token_invalid', 'token_expired', 'token_revoked')
  events(@CurrentUser() user: AuthUser, @Query() query: EventsQueryDto): Promise<SecurityEventPageDto> {
    return this.auth.securityLog(user, query.limit ?? 20, query.cursor);
  }
}
