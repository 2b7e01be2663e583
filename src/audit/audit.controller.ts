import { Controller, Get, Query, Res, applyDecorators } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-docs';
import { AuditHeadDto, AuditPageDto, VerifyResultDto } from './audit.dto';
import type { FastifyReply } from 'fastify';
import { Roles } from '../auth/roles.decorator';
import { EXPORT_CONTENT_TYPES, exportAudit } from './audit-export';
import type { AuditEntry, AuditHead, Page, VerifyResult } from '../contract/api-types';
import { AuditLog } from './audit-log';
import { parseAuditExportQuery, parseAuditPageQuery } from './audit-query';
import { verifyChain } from './chain-verifier';

/** The filters both listing routes take (see AuditFilter for their meaning). */
const ApiAuditFilters = () =>
  applyDecorators(
    ApiQuery({ name: 'type', required: false, type: String, description: 'an event type, e.g. SecretsResolved; an unknown one is 400 naming the known ones' }),
    ApiQuery({ name: 'key', required: false, type: String, description: "everything that happened to this secret, and every resolve that asked for it" }),
    ApiQuery({ name: 'actor', required: false, type: String, description: 'an actor id (tok_…, system)' }),
    ApiQuery({ name: 'from', required: false, schema: { type: 'string', format: 'date-time' }, description: 'ISO 8601, inclusive' }),
    ApiQuery({ name: 'to', required: false, schema: { type: 'string', format: 'date-time' }, description: 'ISO 8601, exclusive' }),
    ApiProblems(400),
  );

@ApiTags('audit')
@ApiAuthenticated()
@Controller('api/v1/audit')
@Roles('auditor', 'admin')
export class AuditController {
  constructor(private readonly log: AuditLog) {}

  @Get()
  @ApiOperation({ summary: 'Query the audit trail', description: 'Events in seq order (or newest first), filtered, a page at a time. Never a value.' })
  @ApiAuditFilters()
  @ApiQuery({ name: 'order', required: false, enum: ['asc', 'desc'], description: 'asc (default): oldest first; desc: newest first' })
  @ApiQuery({ name: 'after', required: false, type: String, description: 'the next cursor of the previous page (give the same order again)' })
  @ApiQuery({ name: 'start', required: false, schema: { type: 'integer', minimum: 1 }, description: 'a seq: the page begins there, in the order asked; not with after' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiOkResponse({ type: AuditPageDto, description: 'A page of events' })
  list(@Query() query: Record<string, unknown>): Promise<Page<AuditEntry>> {
    const { filter, position, limit } = parseAuditPageQuery(query);
    return position.order === 'desc' ? this.log.newestPage(filter, position.seq, limit) : this.log.page(filter, position.seq, limit);
  }

  @Get('export')
  @ApiOperation({ summary: 'Export the audit trail', description: 'The log as of the start of the export, streamed: NDJSON (one AuditEntry a line) or CSV with a header row.' })
  @ApiAuditFilters()
  @ApiProduces(...Object.values(EXPORT_CONTENT_TYPES))
  @ApiQuery({ name: 'format', required: false, enum: ['ndjson', 'csv'] })
  @ApiOkResponse({
    description: 'The events, streamed',
    content: Object.fromEntries(Object.values(EXPORT_CONTENT_TYPES).map((type) => [type, { schema: { type: 'string' } }])),
  })
  export(@Query() query: Record<string, unknown>, @Res() reply: FastifyReply): void {
    // Parsed before the first byte is sent, so bad input is still a clean 400.
    const { filter, format } = parseAuditExportQuery(query);
    void reply
      .header('Content-Type', EXPORT_CONTENT_TYPES[format])
      .header('Content-Disposition', `attachment; filename="audit.${format}"`)
      .send(exportAudit(this.log, filter, format));
  }

  @Get('verify')
  @ApiOperation({ summary: 'Verify the hash chain', description: 'Recomputes every hash and link from seq 1, and names the first broken seq. Never repairs anything.' })
  @ApiOkResponse({ type: VerifyResultDto, description: 'The result, broken or not' })
  verify(): Promise<VerifyResult> {
    return verifyChain(this.log);
  }

  @Get('head')
  @ApiOperation({ summary: 'The head of the chain', description: 'The newest seq and hash: record it outside the system to detect truncation or a rewrite later.' })
  @ApiOkResponse({ type: AuditHeadDto, description: 'The head' })
  head(): Promise<AuditHead> {
    return this.log.head();
  }
}
