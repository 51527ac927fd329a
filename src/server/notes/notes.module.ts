import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminNotesController } from './admin-notes.controller.js';
import { Note } from './note.entity.js';
import { NotesController } from './notes.controller.js';
import { NotesService } from './notes.service.js';

/** The example feature module. */
@Module({
  imports: [TypeOrmModule.forFeature([Note])],
  controllers: [NotesController, AdminNotesController],
  providers: [NotesService],
})
export class NotesModule {}
