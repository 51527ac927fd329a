import { ApiProperty } from '../../common/swagger.js';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';
import { NormalizeEmail } from './register.dto.js';

/** `POST /auth/login` body. */
export class LoginDto {
  @ApiProperty({ example: 'ann@example.com', description: 'Trimmed and lower-cased.' })
  @NormalizeEmail()
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @Length(1, 128)
  password!: string;
}
