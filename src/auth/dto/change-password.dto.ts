import { ApiProperty } from '../../common/swagger.js';
import { IsString, Length } from 'class-validator';

/** `POST /auth/password` body. */
export class ChangePasswordDto {
  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @Length(1, 128)
  currentPassword!: string;

  @ApiProperty({ example: 'another long passphrase', minLength: 8, maxLength: 128 })
  @IsString()
  @Length(8, 128)
  newPassword!: string;
}
