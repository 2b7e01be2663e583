import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEntry, AuditHead, ChainPoint, Page, StateDisagreement, VerifyResult } from '../contract/api-types';
import { StoredEventType } from '../event-store/stored-event-types';
import { ActorDto } from '../secrets/http/secret.dto';

// The OpenAPI shapes of the audit routes (SPEC §3); the routes return the plain objects.

export class AuditEntryDto implements AuditEntry {
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Global, gap-free position in the log' }) seq!: number;
  @ApiProperty({ description: 'The event id (UUIDv7)' }) id!: string;
  @ApiProperty({ example: StoredEventType.SecretUpdated }) type!: string;
  @ApiPropertyOptional({ description: 'Secret events only' }) key?: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: "Secret events only: the secret's version" }) version?: number;
  @ApiProperty({ type: ActorDto }) actor!: ActorDto;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "The event's value-free facts" }) data!: Record<string, unknown>;
  @ApiProperty({ description: 'SHA-256 (hex) of the row before' }) prevHash!: string;
  @ApiProperty({ description: 'SHA-256 (hex) of this canonical row, prevHash included' }) hash!: string;
}

export class AuditPageDto implements Page<AuditEntry> {
  @ApiProperty({ type: [AuditEntryDto] }) items!: AuditEntryDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass it back as `after` for the next page; null on the last one' }) next!: string | null;
}

export class ChainPointDto implements ChainPoint {
  @ApiProperty({ type: 'integer', minimum: 0 }) seq!: number;
  @ApiProperty({ description: 'SHA-256 (hex); empty for an empty log' }) hash!: string;
}

export class StateDisagreementDto implements StateDisagreement {
  @ApiProperty({ enum: ['secrets', 'tokens', 'data_keys'], description: 'The table outside the chain that disagrees with the log' }) table!: 'secrets' | 'tokens' | 'data_keys';
  @ApiPropertyOptional({ description: 'The secret key (tables secrets and data_keys)' }) key?: string;
  @ApiPropertyOptional({ description: 'The token id (table tokens)' }) id?: string;
  @ApiProperty({ description: 'The field that disagrees (e.g. version, valueEventId, role, revokedAt, hash), or key/id/issued for a row the other side lacks; "version N" for a data key' }) field!: string;
  @ApiProperty({ description: 'What the table says and what the log says' }) reason!: string;
}

export class VerifyResultDto implements VerifyResult {
  @ApiProperty({ description: 'The chain holds and the read model, tokens table and data keys agree with the log' }) ok!: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Rows checked' }) checked!: number;
  @ApiProperty({ type: ChainPointDto }) head!: ChainPointDto;
  @ApiPropertyOptional({ type: 'integer', description: 'The first broken seq' }) brokenAt?: number;
  @ApiPropertyOptional({ description: 'Why it is broken' }) reason?: string;
  @ApiProperty({ type: [StateDisagreementDto], description: 'Each place where the read model, the tokens table or the data keys disagree with the log; empty when none' })
  disagreements!: StateDisagreementDto[];
}

export class AuditHeadDto extends ChainPointDto implements AuditHead {
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: "The newest event's time; null for an empty log" }) at!: string | null;
}
