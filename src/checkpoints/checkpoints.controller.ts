import { Body, Controller, Get, Header, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuditLog } from '../audit/audit-log';
import { Roles } from '../auth/roles.decorator';
import { FieldError, ValidationError } from '../common/errors';
import { parseLimit } from '../common/page-cursor';
import { ApiAuthenticated, ApiJsonBody, ApiProblems } from '../openapi/api-docs';
import { CheckpointFileError, SignedCheckpoint, parseCheckpoints } from './checkpoint';
import { checkpointLog } from './checkpoint-log';
import { CheckpointPageDto, VerifyWithCheckpointsDto, VerifyWithCheckpointsResultDto } from './checkpoints.dto';
import { SigningKey, parseEd25519 } from './signing-key';
import type { VerifyWithCheckpointsResult } from '../contract/api-types';
import { verifyWithCheckpoints } from './verify-with-checkpoints';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;
export const PEM_CONTENT_TYPE = 'application/x-pem-file';

@ApiTags('audit')
@ApiAuthenticated()
@Controller('api/v1/audit')
@Roles('auditor', 'admin')
export class CheckpointsController {
  constructor(
    private readonly log: AuditLog,
    private readonly key: SigningKey,
  ) {}

  @Get('checkpoints')
  @ApiOperation({ summary: 'List the signed checkpoints', description: 'The AuditCheckpoint entries of the log, oldest first, as the sink ships them.' })
  @ApiQuery({ name: 'after', required: false, schema: { type: 'integer', minimum: 0 }, description: 'only checkpoints covering a seq above this one (the `next` of the previous page)' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT } })
  @ApiOkResponse({ type: CheckpointPageDto, description: 'A page of checkpoints' })
  @ApiProblems(400)
  async list(@Query() query: Record<string, unknown>): Promise<{ items: SignedCheckpoint[]; next: number | null }> {
    const errors: FieldError[] = [];
    const after = query.after === undefined ? 0 : typeof query.after === 'string' && /^\d{1,15}$/.test(query.after) ? Number(query.after) : undefined;
    if (after === undefined) errors.push({ field: 'after', message: 'must be a seq (a non-negative integer)' });
    const limit = parseLimit(query.limit, MAX_LIMIT) ?? DEFAULT_LIMIT;
    if (Number.isNaN(limit)) errors.push({ field: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` });
    const unknown = Object.keys(query).filter((name) => name !== 'after' && name !== 'limit');
    if (unknown.length > 0) errors.push({ field: 'query', message: 'only after and limit are accepted' });
    if (errors.length > 0) throw new ValidationError('The query is invalid.', errors);
    // A checkpoint's event is the one right after the seq it covers (the writer appends it on the head it signs).
    const rows = await checkpointLog.after(this.log.session, after! + 1, limit + 1);
    const items = rows.slice(0, limit).map((row) => row.checkpoint);
    return { items, next: rows.length > limit ? items[items.length - 1].seq : null };
  }

  @Get('signing-key')
  @Header('Content-Type', PEM_CONTENT_TYPE)
  @ApiOperation({ summary: 'The checkpoint signing key', description: 'The Ed25519 public key (PEM, SPKI) the checkpoints verify with. Keep a copy off the box: a verifier trusts the copy, not the service.' })
  @ApiProduces(PEM_CONTENT_TYPE)
  @ApiOkResponse({ description: 'The public key', content: { [PEM_CONTENT_TYPE]: { schema: { type: 'string' } } } })
  signingKey(): string {
    return this.key.publicKeyPem;
  }

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Verify against checkpoints kept elsewhere',
    description: 'The whole verify, then each uploaded checkpoint: its signature (forged), the log\'s hash at its seq (rewritten), and whether the log reaches the newest one (truncated).',
  })
  @ApiJsonBody()
  @ApiOkResponse({ type: VerifyWithCheckpointsResultDto, description: 'The result, broken or not' })
  verify(@Body() body: VerifyWithCheckpointsDto): Promise<VerifyWithCheckpointsResult> {
    const errors: FieldError[] = [];
    let checkpoints: SignedCheckpoint[] = [];
    try {
      checkpoints = parseCheckpoints(body.checkpoints);
    } catch (error) {
      if (!(error instanceof CheckpointFileError)) throw error;
      errors.push(...error.problems.map((message) => ({ field: 'checkpoints', message })));
    }
    let publicKey = this.key.publicKey;
    if (body.publicKey !== undefined) {
      try {
        publicKey = parseEd25519(body.publicKey, 'public', 'publicKey');
      } catch {
        errors.push({ field: 'publicKey', message: 'must be an Ed25519 public key: the base64 of its SPKI DER' });
      }
    }
    if (errors.length > 0) throw new ValidationError('The checkpoints cannot be read.', errors);
    return verifyWithCheckpoints(this.log, checkpoints, publicKey);
  }
}
