import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Public } from '../auth/roles.decorator';

/**
 * Scripts, styles and images from this origin only: no inline code (an injected script could
 * read the session's token), no eval, no other origin, no framing, no form posts elsewhere.
 * Set here, on the console's own responses, whatever headers the rest of the service gets.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  // Strings never become markup: the console builds nodes, never assigns HTML (dom.ts).
  "require-trusted-types-for 'script'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

// Read once at start: the console is static, built into dist/admin-ui/console by `npm run build`
// (beside this file once compiled; from src/ when the tests run the TypeScript directly).
const BUILT = [join(__dirname, 'console'), join(__dirname, '../../dist/admin-ui/console')].find((dir) => existsSync(join(dir, 'console.js')));
if (!BUILT) throw new Error('The admin console is not built: run `npm run build` (it bundles src/admin-ui/console into dist/).');
const PAGE = readFileSync(join(BUILT, 'index.html'), 'utf8');
const ASSETS = new Map(Object.keys(CONTENT_TYPES).map((file) => [file, readFileSync(join(BUILT, file))]));

/**
 * The admin console: a single page over /api/v1 (src/admin-ui/console). It holds no logic the
 * API does not enforce; the token stays in the tab's sessionStorage.
 */
@ApiExcludeController()
@Public()
@Controller()
export class AdminUiController {
  @Get()
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    secure(reply, 'text/html; charset=utf-8');
    return PAGE;
  }

  @Get('console/:file')
  asset(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    const asset = ASSETS.get(file);
    if (!asset) throw new NotFoundException('No such console file.');
    secure(reply, CONTENT_TYPES[file]);
    return asset;
  }
}

function secure(reply: FastifyReply, contentType: string): void {
  void reply
    .header('Content-Type', contentType)
    .header('Content-Security-Policy', CONSOLE_CSP)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    // Rebuilt with the service: never serve a stale console beside a newer API.
    .header('Cache-Control', 'no-store');
}
