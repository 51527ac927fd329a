import { ApiProperty } from '@nestjs/swagger';

/** A note as returned by the API. */
export class NoteDto {
  @ApiProperty({ example: '8e0c6f3a-1b2d-4c5e-8f9a-0b1c2d3e4f5a' })
  id!: string;

  @ApiProperty({ example: 'Groceries' })
  title!: string;

  @ApiProperty({ example: 'Milk, eggs, flour' })
  body!: string;

  @ApiProperty({ example: '2026-11-25T08:00:00.000Z' })
  createdAt!: Date;
}
