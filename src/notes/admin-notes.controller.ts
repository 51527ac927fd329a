import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/index.js';
import { NoteDto } from './dto/note.dto.js';
import { NotesService } from './notes.service.js';

/** Every user's notes, for admins. */
@ApiTags('notes')
@ApiBearerAuth()
@Controller('admin/notes')
export class AdminNotesController {
  constructor(private readonly notes: NotesService) {}

  @Get()
  @Roles('admin')
  @ApiOkResponse({ type: [NoteDto] })
  all(): Promise<NoteDto[]> {
    return this.notes.listAll();
  }
}
