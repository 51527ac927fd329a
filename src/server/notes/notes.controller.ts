import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors, CurrentUser, Scopes, uuidParam } from '../../index.js';
import { CreateNoteDto } from './dto/create-note.dto.js';
import { NoteDto } from './dto/note.dto.js';
import { NotesService } from './notes.service.js';

/** The example feature module: it needs nothing from auth but its decorators. */
@ApiTags('notes')
@ApiBearerAuth()
@ApiErrors('token_missing', 'token_invalid', 'token_expired', 'token_revoked', 'insufficient_scope')
@Controller('notes')
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Get()
  @Scopes('notes:read')
  @ApiOkResponse({ type: [NoteDto] })
  list(@CurrentUser('id') userId: string): Promise<NoteDto[]> {
    return this.notes.list(userId);
  }

  @Post()
  @Scopes('notes:write')
  @ApiCreatedResponse({ type: NoteDto })
  @ApiErrors('validation_failed')
  create(@CurrentUser('id') userId: string, @Body() dto: CreateNoteDto): Promise<NoteDto> {
    return this.notes.create(userId, dto.title, dto.body ?? '');
  }

  @Get(':id')
  @Scopes('notes:read')
  @ApiOkResponse({ type: NoteDto })
  @ApiErrors('validation_failed', 'not_found')
  get(@CurrentUser('id') userId: string, @Param('id', uuidParam('id')) id: string): Promise<NoteDto> {
    return this.notes.get(userId, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Scopes('notes:write')
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrors('validation_failed', 'not_found')
  async remove(@CurrentUser('id') userId: string, @Param('id', uuidParam('id')) id: string): Promise<void> {
    await this.notes.remove(userId, id);
  }
}
