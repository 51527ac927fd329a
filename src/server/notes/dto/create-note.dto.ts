import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';

/** `POST /notes` body. */
export class CreateNoteDto {
  @ApiProperty({ example: 'Groceries', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  title!: string;

  @ApiPropertyOptional({ example: 'Milk, eggs, flour', maxLength: 10000, default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  body?: string;
}
