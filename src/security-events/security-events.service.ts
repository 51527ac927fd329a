import { Inject, Injectable } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { LessThan, type DataSource, type Repository } from 'typeorm';
import type { ClientContext } from '../common/client-context.js';
import { SecurityEvent, type SecurityEventType } from './security-event.entity.js';

/** Largest id of the log's `integer` column (PostgreSQL's is 32-bit). */
const MAX_EVENT_ID = 2_147_483_647;

/** One page of a user's security log, newest first. */
export interface SecurityEventPage {
  items: Array<{
    id: string;
    type: SecurityEventType;
    createdAt: Date;
    sessionId: string | null;
    ip: string | null;
    userAgent: string | null;
  }>;
  /** Pass as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** Writes and reads the per-user security log. */
@Injectable()
export class SecurityEventsService {
  private readonly events: Repository<SecurityEvent>;

  constructor(@Inject(getDataSourceToken()) dataSource: DataSource) {
    this.events = dataSource.getRepository(SecurityEvent);
  }

  /** Appends an event to a user's log. */
  async record(
    userId: string,
    type: SecurityEventType,
    client: ClientContext,
    sessionId: string | null = null,
  ): Promise<void> {
    await this.events.insert({
      userId,
      type,
      sessionId,
      ip: client.ip,
      userAgent: client.userAgent,
      createdAt: new Date(),
    });
  }

  /** A page of the user's log, newest first; `cursor` is the previous page's `nextCursor`. */
  async list(userId: string, limit: number, cursor?: string): Promise<SecurityEventPage> {
    // A cursor past the largest id the column holds (PostgreSQL `integer`) is before every event.
    const before = cursor === undefined || Number(cursor) > MAX_EVENT_ID ? undefined : Number(cursor);
    const rows = await this.events.find({
      where: before === undefined ? { userId } : { userId, id: LessThan(before) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => ({
        id: String(row.id),
        type: row.type,
        createdAt: row.createdAt,
        sessionId: row.sessionId,
        ip: row.ip,
        userAgent: row.userAgent,
      })),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null,
    };
  }
}
