import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Public } from '../auth/roles.decorator';

// Read once at start: the page is static; it talks to the same /api/v1 as everything else.
const PAGE = readFileSync(join(__dirname, 'admin-page.html'), 'utf8');

/**
 * The admin web page. It holds no logic the API does not enforce: it is a form over
 * /api/v1/secrets, with the token kept in sessionStorage and values in password inputs.
 */
@ApiExcludeController()
@Public()
@Controller()
export class AdminUiController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  // Only our own inline script and styles; no third-party origin, no framing.
  @Header('Content-Security-Policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
  @Header('Cache-Control', 'no-store')
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    void reply.header('X-Content-Type-Options', 'nosniff');
    return PAGE;
  }
}
