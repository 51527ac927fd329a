import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';

const ANSWER = { ok: true } as const;

/** The same handler as the fixture's `BenchController`, open and behind `AuthGuard('jwt')`. */
@Controller('bench')
export class BenchController {
  @Get('open')
  open() {
    return ANSWER;
  }

  @Get('guarded')
  @UseGuards(AuthGuard('jwt'))
  guarded() {
    return ANSWER;
  }
}
