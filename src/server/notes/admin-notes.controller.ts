import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors, Roles } from '../../index.js';
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
  @ApiErrors('token_missing', 'token_invalid', 'token_expired', 'token_revoked', 'insufficient_role')
  all(): Promise<NoteDto[]> {
    return this.notes.listAll();
  }
}
