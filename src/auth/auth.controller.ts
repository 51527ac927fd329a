import { Body, Controller, Get, Header, HttpCode, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { AuthError } from '../common/auth.error.js';
import { Client, type ClientContext } from '../common/client-context.js';
import { EmptyBodyDto } from '../common/empty-body.dto.js';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '../common/swagger.js';
import type { AuthUser } from './auth-user.interface.js';
import { AuthService } from './auth.service.js';
import { optionalBearerToken } from './bearer-token.js';
import { AuthRoutes } from './decorators/auth-routes.decorator.js';
import { CurrentUser } from './decorators/current-user.decorator.js';
import { Public } from './decorators/public.decorator.js';
import { ChangePasswordDto } from './dto/change-password.dto.js';
import { EventsQueryDto } from './dto/events-query.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { RefreshTokenDto } from './dto/refresh-token.dto.js';
import { SecurityEventPageDto, TokenResponseDto, UserResponseDto } from './dto/responses.dto.js';
import { CredentialRateLimitGuard } from './guards/credential-rate-limit.guard.js';
import { RefreshTokenTransport } from './refresh-token-transport.js';

/** Docs of the header that asks for the browser transport. */
export const TRANSPORT_HEADER_DOC = {
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

/** Login, refresh, logout, the current user, password change and the security log. */
@ApiTags('auth')
@ApiBearerAuth()
@AuthRoutes()
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly transport: RefreshTokenTransport,
  ) {}

  @Public()
  @UseGuards(CredentialRateLimitGuard)
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Log in: starts a session and returns an access and a refresh token' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiHeader(TRANSPORT_HEADER_DOC)
  @ApiErrors('validation_failed', 'invalid_credentials', 'account_disabled', 'rate_limited')
  async login(
    @Body() dto: LoginDto,
    @Client() client: ClientContext,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokenResponseDto> {
    return this.transport.send(request, response, await this.auth.login(dto, client));
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
    const accessToken = presented ? undefined : optionalBearerToken(request);
    await this.auth.logout({ refreshToken: presented?.token, accessToken }, client);
    // Cleared once the session is ended: a failure leaves the browser able to retry.
    if (presented?.viaCookie) this.transport.clear(request, response);
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
  @ApiErrors('token_missing', 'token_invalid', 'token_expired', 'token_revoked', 'not_found')
  me(@CurrentUser() user: AuthUser): Promise<UserResponseDto> {
    return this.auth.me(user);
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
    await this.auth.changePassword(user, dto, client);
  }

  @Get('events')
  @ApiOperation({ summary: "The caller's security log, newest first" })
  @ApiOkResponse({ type: SecurityEventPageDto })
  @ApiErrors('validation_failed', 'token_missing', 'token_invalid', 'token_expired', 'token_revoked')
  events(@CurrentUser() user: AuthUser, @Query() query: EventsQueryDto): Promise<SecurityEventPageDto> {
    return this.auth.events(user.id, query);
  }
}
