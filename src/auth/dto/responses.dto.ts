import { ApiProperty, ApiPropertyOptional } from '../../common/swagger.js';

/** Token response, with the OAuth 2.0 field names of RFC 6749 §5.1. */
export class TokenResponseDto {
  @ApiProperty({ example: 'eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...' })
  access_token!: string;

  @ApiProperty({ example: 'Bearer' })
  token_type!: 'Bearer';

  @ApiProperty({ example: 900, description: 'Seconds until the access token expires.' })
  expires_in!: number;

  @ApiPropertyOptional({
    example: '0b6f1f7e-3c1a-4d5e-9f00-4b7c2a1e9d10.q7Yh0mXo2mQ8d3vK9sTq4kQ0c6x1Yy1z3r2n5b8a7c0',
    description: 'Absent in cookie mode, where it is set as an HttpOnly cookie instead.',
  })
  refresh_token?: string;

  @ApiProperty({ example: 1209600, description: 'Seconds until the refresh token expires if unused.' })
  refresh_expires_in!: number;

  @ApiProperty({ example: '5d0c3c1e-7c0e-4a53-9b55-0c2a3e4f5a6b', description: 'The session (`sid`) of this login.' })
  session_id!: string;
}

/** A user account as returned by the API (never its password hash). */
export class UserResponseDto {
  @ApiProperty({ example: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b' })
  id!: string;

  @ApiProperty({ example: 'ann@example.com' })
  email!: string;

  @ApiProperty({ example: 'Ann', nullable: true, type: String })
  name!: string | null;

  @ApiProperty({ example: ['user'] })
  roles!: string[];

  @ApiProperty({
    example: '2026-11-25T08:00:00.000Z',
    nullable: true,
    type: Date,
    description: 'When the user store records it.',
  })
  createdAt!: Date | null;
}

/** A live session of the caller. */
export class SessionResponseDto {
  @ApiProperty({
    example: '5d0c3c1e-7c0e-4a53-9b55-0c2a3e4f5a6b',
    description: "The login's `session_id` and its tokens' `sid`.",
  })
  id!: string;

  @ApiProperty({ example: '2026-11-25T08:00:00.000Z' })
  createdAt!: Date;

  @ApiProperty({ example: '2026-11-25T08:10:00.000Z', description: 'Last login or refresh.' })
  lastUsedAt!: Date;

  @ApiProperty({
    example: '2026-12-09T08:10:00.000Z',
    description: 'When it ends if not refreshed before: the idle expiry, never past the absolute one.',
  })
  expiresAt!: Date;

  @ApiProperty({ example: '203.0.113.7', nullable: true, type: String })
  ip!: string | null;

  @ApiProperty({ example: 'Mozilla/5.0', nullable: true, type: String })
  userAgent!: string | null;

  @ApiProperty({ example: true, description: 'Whether it is the session of the calling access token.' })
  current!: boolean;
}

/** One entry of the security log. */
export class SecurityEventDto {
  @ApiProperty({ example: '42' })
  id!: string;

  @ApiProperty({
    example: 'login',
    enum: [
      'register',
      'login',
      'login_failed',
      'refresh_token_reused',
      'logout',
      'logout_all',
      'session_revoked',
      'password_changed',
      'admin_revoked',
    ],
  })
  type!: string;

  @ApiProperty({ example: '2026-11-25T08:00:00.000Z' })
  createdAt!: Date;

  @ApiProperty({ example: '5d0c3c1e-7c0e-4a53-9b55-0c2a3e4f5a6b', nullable: true, type: String })
  sessionId!: string | null;

  @ApiProperty({ example: '203.0.113.7', nullable: true, type: String })
  ip!: string | null;

  @ApiProperty({ example: 'Mozilla/5.0', nullable: true, type: String })
  userAgent!: string | null;
}

/** A page of the security log. */
export class SecurityEventPageDto {
  @ApiProperty({ type: [SecurityEventDto] })
  items!: SecurityEventDto[];

  @ApiProperty({ example: '17', nullable: true, type: String, description: 'Pass as `cursor` for the next page.' })
  nextCursor!: string | null;
}

/** `GET /.well-known/jwks.json`. */
export class JwksResponseDto {
  @ApiProperty({
    example: [{ kty: 'EC', crv: 'P-256', x: '...', y: '...', kid: '...', alg: 'ES256', use: 'sig' }],
    description: 'Empty with an HMAC algorithm: there is no public key to publish.',
  })
  keys!: object[];
}
