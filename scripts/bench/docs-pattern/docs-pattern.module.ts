import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { BenchController } from './bench.controller.js';
import { JwtStrategy } from './jwt.strategy.js';

/** The docs-pattern app: Passport's `jwt` strategy and one controller. */
@Module({
  imports: [PassportModule],
  controllers: [BenchController],
  providers: [JwtStrategy],
})
export class DocsPatternModule {}
