import { Controller, Get, Query, Res, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../auth/roles.decorator';
import type { AuditEntry } from './audit-entry';
import { EXPORT_CONTENT_TYPES, exportAudit } from './audit-export';
import { AuditHead, AuditLog } from './audit-log';
import { parseAuditExportQuery, parseAuditPageQuery } from './audit-query';
import { VerifyResult, verifyChain } from './chain-verifier';

/** The filters both listing routes take (see AuditFilter for their meaning). */
const ApiAuditFilters = () =>
  applyDecorators(
    ApiQuery({ name: 'type', required: false }),
    ApiQuery({ name: 'key', required: false, description: "events of this secret's own stream" }),
    ApiQuery({ name: 'actor', required: false, description: 'an actor id (tok_…, system)' }),
    ApiQuery({ name: 'from', required: false, description: 'ISO 8601, inclusive' }),
    ApiQuery({ name: 'to', required: false, description: 'ISO 8601, exclusive' }),
  );

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
@Roles('auditor', 'admin')
export class AuditController {
  constructor(private readonly log: AuditLog) {}

  @Get()
  @ApiAuditFilters()
  @ApiQuery({ name: 'after', required: false, description: 'the next cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  list(@Query() query: Record<string, unknown>): { items: AuditEntry[]; next: string | null } {
    const { filter, afterSeq, limit } = parseAuditPageQuery(query);
    return this.log.page(filter, afterSeq, limit);
  }

  @Get('export')
  @ApiAuditFilters()
  @ApiProduces(...Object.values(EXPORT_CONTENT_TYPES))
  @ApiQuery({ name: 'format', required: false, enum: ['ndjson', 'csv'] })
  export(@Query() query: Record<string, unknown>, @Res() reply: FastifyReply): void {
    // Parsed before the first byte is sent, so bad input is still a clean 400.
    const { filter, format } = parseAuditExportQuery(query);
    void reply
      .header('Content-Type', EXPORT_CONTENT_TYPES[format])
      .header('Content-Disposition', `attachment; filename="audit.${format}"`)
      .send(exportAudit(this.log, filter, format));
  }

  @Get('verify')
  verify(): Promise<VerifyResult> {
    return verifyChain(this.log);
  }

  @Get('head')
  head(): AuditHead {
    return this.log.head();
  }
}
