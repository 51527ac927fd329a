import { ApiPropertyOptional } from '../../common/swagger.js';
import { IsOptional, IsString } from 'class-validator';

/** Body of `POST /auth/refresh` and `POST /auth/logout`: the refresh token in body mode. */
export class RefreshTokenDto {
  @ApiPropertyOptional({
    example: '0b6f1f7e-3c1a-4d5e-9f00-4b7c2a1e9d10.q7Yh0mXo2mQ8d3vK9sTq4kQ0c6x1Yy1z3r2n5b8a7c0',
    description: 'Omit in cookie mode: the `refresh_token` cookie is read instead.',
  })
  @IsOptional()
  @IsString()
  refresh_token?: string;
}
