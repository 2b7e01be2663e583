import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import type { AuthenticatedRequest } from '../auth/bearer';
import { Roles } from '../auth/roles.decorator';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-docs';
import { MAX_STREAM_KEYS } from '../contract/change-notification';
import { parseChangesQuery } from './changes-query';
import { ResolveService } from '../resolve/resolve.service';
import { OpenStreams } from './open-streams';

const EVENT_STREAM = 'text/event-stream; charset=utf-8';

@ApiTags('changes')
@ApiAuthenticated()
@Controller('api/v1/changes')
export class ChangesController {
  constructor(
    private readonly streams: OpenStreams,
    private readonly resolver: ResolveService,
  ) {}

  @Get()
  @Roles('admin', 'auditor', 'executor')
  @ApiOperation({
    summary: 'Follow secret-state changes',
    description:
      'Server-sent events: every change after the revision given (Last-Event-ID, else `after`, else the head) from the log, in revision order, then live ones. ' +
      'Each event is `id: <revision>`, `event: change`, `data: {type, key, version, revision, seq, eventId, at}`; never a value. ' +
      '`event: revoked` ends the stream when its token is revoked. Comment lines keep a quiet stream alive. ' +
      'With `values=true&plugin=…&keys=…` (an executor token allowed the plugin, as for resolve): each live change of those keys also carries `value`, ' +
      'the key\'s value at that version, recorded as a SecretsResolved entry (`via: stream`) before it is sent; or `withheld` (catch-up, superseded, expired, unreadable) instead.',
  })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'after', required: false, schema: { type: 'integer', minimum: 0 }, description: 'start after this revision (0: the whole log); Last-Event-ID wins' })
  @ApiQuery({ name: 'keys', required: false, type: String, description: `only these keys' changes: 1 to ${MAX_STREAM_KEYS} secret keys, comma-separated` })
  @ApiQuery({ name: 'values', required: false, schema: { type: 'string', enum: ['true'] }, description: 'values mode, for an executor: needs `plugin` and `keys`' })
  @ApiQuery({ name: 'plugin', required: false, type: String, description: 'values mode: the plugin whose declared keys these are (the token must be allowed it)' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: "the last id a reconnecting reader received: the stream resumes after it" })
  @ApiOkResponse({ description: 'The stream of changes', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiProblems(400)
  async follow(
    @Query() query: Record<string, unknown>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: AuthenticatedRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Parsed and positioned before the first byte, so bad input is a clean 400 and a limit a 429.
    const { after, keys, valuesFor } = parseChangesQuery(query, lastEventId);
    const principal = request.principal!;
    // Values are a standing resolve: resolve's rules decide who gets them, and record refusals.
    if (valuesFor !== undefined) await this.resolver.authorize(principal, valuesFor, [...keys!], `stream values ${valuesFor}`);
    const opened = await this.streams.open({ principal, response: reply.raw, after, keys, valuesFor, action: `GET ${request.routeOptions.url}` });
    // Written by the stream itself, so that what the socket has not taken is what stays buffered;
    // the headers the edge set (no-store, helmet's) go with it.
    reply.hijack();
    // A proxy (nginx) would otherwise hold the events back to fill its buffer.
    void opened.stream.run({ ...(reply.getHeaders() as OutgoingHttpHeaders), 'content-type': EVENT_STREAM, 'x-accel-buffering': 'no' }, opened.after);
  }
}
