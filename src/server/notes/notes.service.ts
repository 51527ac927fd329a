import { randomUUID } from 'node:crypto';
import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { NoteDto } from './dto/note.dto.js';
import { Note } from './note.entity.js';

/** Notes, always scoped to their owner. */
@Injectable()
export class NotesService {
  constructor(@InjectRepository(Note) private readonly notes: Repository<Note>) {}

  /** The user's notes, newest first. */
  async list(userId: string): Promise<NoteDto[]> {
    return (await this.notes.find({ where: { userId }, order: { createdAt: 'DESC' } })).map(toDto);
  }

  /** Every note of every user (admin). */
  async listAll(): Promise<Array<NoteDto & { userId: string }>> {
    return (await this.notes.find({ order: { createdAt: 'DESC' } })).map((note) => ({
      ...toDto(note),
      userId: note.userId,
    }));
  }

  /** Creates a note for the user. */
  async create(userId: string, title: string, body: string): Promise<NoteDto> {
    const note = this.notes.create({ id: randomUUID(), userId, title, body, createdAt: new Date() });
    await this.notes.insert(note);
    return toDto(note);
  }

  /** One of the user's notes; another user's note is not found, exactly like a missing one. */
  async get(userId: string, id: string): Promise<NoteDto> {
    const note = await this.notes.findOneBy({ id, userId });
    if (!note) throw new NotFoundException('Note not found');
    return toDto(note);
  }

  /** Deletes one of the user's notes. */
  async remove(userId: string, id: string): Promise<void> {
    const result = await this.notes.delete({ id, userId });
    if (!result.affected) throw new NotFoundException('Note not found');
  }
}

function toDto(note: Note): NoteDto {
  return { id: note.id, title: note.title, body: note.body, createdAt: note.createdAt };
}
