import { ApiPropertyOptional } from '../../common/swagger.js';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** `GET /auth/events` query. */
export class EventsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: "The previous page's `nextCursor`.", example: '42' })
  @IsOptional()
  @Matches(/^\d{1,15}$/, { message: 'cursor must be a nextCursor value' })
  cursor?: string;
}
