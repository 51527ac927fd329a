import { ApiProperty, ApiPropertyOptional } from './swagger.js';
import { AUTH_ERROR_STATUS, type AuthErrorCode } from './auth-error-code.js';

/** One field's validation messages. */
export class FieldErrorDto {
  @ApiProperty({ example: 'email' })
  field!: string;

  @ApiProperty({ example: ['email must be an email'] })
  messages!: string[];
}

/** The one error shape of every non-OAuth endpoint. */
export class ErrorResponseDto {
  @ApiProperty({ example: 401 })
  statusCode!: number;

  @ApiProperty({ enum: Object.keys(AUTH_ERROR_STATUS), example: 'token_expired' })
  code!: AuthErrorCode;

  @ApiProperty({ example: 'Access token has expired' })
  message!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Only with `validation_failed`.' })
  details?: FieldErrorDto[];
}
