import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Min, ValidateIf } from 'class-validator';
import { DESCRIPTION_MAX_LENGTH, SECRET_KEY_MAX_LENGTH, SECRET_KEY_PATTERN, SECRET_VALUE_MAX_BYTES } from '../domain/secret-key';
import type { Actor, AddSecretRequest, ChangeSecretRequest, Items, Page, SecretHistoryEntry, SecretMeta } from '../../contract/api-types';
import { SECRET_EVENT_TYPES } from '../../event-store/stored-event-types';
import type { PresentSecretState } from '../domain/secret-state';
import { EXPIRES_AT_RULE, ExpiryStatus } from '../domain/expiry';

const EXPIRES_AT = `When the secret expires: RFC 3339 (${EXPIRES_AT_RULE.replace('must be ', '')}). Expiry deletes nothing; see SECRETS_REFUSE_EXPIRED.`;

// DTOs check shapes (types, unknown fields); the rules of SPEC §1 live in the domain
// (secretFieldErrors) so that HTTP, NATS and the CLI enforce exactly the same ones.

/** May be left out, but is never `null`: class-validator's IsOptional would let `null` through as a value. */
const Omittable = () => ValidateIf((_object, value) => value !== undefined);

export class CreateSecretDto implements AddSecretRequest {
  @ApiProperty({ pattern: SECRET_KEY_PATTERN.source, maxLength: SECRET_KEY_MAX_LENGTH, example: 'FIFTYONE_CVAT_URL' })
  @IsString()
  key!: string;

  @ApiProperty({ description: `Non-empty, at most ${SECRET_VALUE_MAX_BYTES} bytes of UTF-8. Write-only.`, writeOnly: true })
  @IsString()
  value!: string;

  @ApiPropertyOptional({ maxLength: DESCRIPTION_MAX_LENGTH })
  @Omittable()
  @IsString()
  description?: string;

  @ApiPropertyOptional({ format: 'date-time', description: EXPIRES_AT })
  @Omittable()
  @IsString()
  expiresAt?: string;
}

export class UpdateSecretDto implements ChangeSecretRequest {
  @ApiPropertyOptional({ description: 'New value (write-only). Give a value, a description, or both.', writeOnly: true })
  @Omittable()
  @IsString()
  value?: string;

  @ApiPropertyOptional({ maxLength: DESCRIPTION_MAX_LENGTH })
  @Omittable()
  @IsString()
  description?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: `${EXPIRES_AT} null: never expires.` })
  @ValidateIf((_object, value) => value !== undefined && value !== null)
  @IsString()
  expiresAt?: string | null;
}

export class RollbackSecretDto {
  @ApiProperty({ type: 'integer', minimum: 1, description: 'The version whose value becomes current again', example: 1 })
  @IsInt()
  @Min(1)
  toVersion!: number;
}

export class SecretMetaDto implements SecretMeta {
  @ApiProperty({ example: 'FIFTYONE_CVAT_URL' }) key!: string;
  @ApiProperty({ description: 'Empty when none was given' }) description!: string;
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Per-key version; continues across remove and re-add. Sent as the ETag.' }) version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ description: 'The actor name that added it' }) createdBy!: string;
  @ApiProperty({ description: 'The actor name that changed it last' }) updatedBy!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When it expires (UTC); absent: never' }) expiresAt?: string;
  @ApiPropertyOptional({ enum: ['expired', 'expiring'], description: 'Present when the expiry has passed, or falls within SECRETS_EXPIRY_WARNING_DAYS' })
  expiry?: ExpiryStatus;

  static from(state: PresentSecretState, expiry?: ExpiryStatus): SecretMetaDto {
    return {
      key: state.key,
      description: state.description,
      version: state.version,
      createdAt: state.createdAt,
      updatedAt: state.updatedAt,
      createdBy: state.createdBy,
      updatedBy: state.updatedBy,
      ...(state.expiresAt !== undefined ? { expiresAt: state.expiresAt } : {}),
      ...(expiry !== undefined ? { expiry } : {}),
    };
  }
}

export class SecretListDto implements Page<SecretMeta> {
  @ApiProperty({ type: [SecretMetaDto] }) items!: SecretMetaDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page; null on the last page.' }) next!: string | null;
}

export class ActorDto implements Actor {
  @ApiProperty({ example: 'tok_0190a1b2-…' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['admin', 'executor', 'auditor', 'system'] }) role!: string;
}

export class DestroyedDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ description: 'The actor name that destroyed it' }) by!: string;
}

export class SecretHistoryEntryDto implements SecretHistoryEntry {
  @ApiProperty({ type: 'integer', minimum: 1 }) version!: number;
  @ApiProperty({ enum: SECRET_EVENT_TYPES }) type!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: ActorDto }) actor!: Actor;
  @ApiPropertyOptional({ description: 'Added: the description; Updated: the new one, only when it changed' }) description?: string;
  @ApiPropertyOptional({ description: 'Updated only: whether a new value was stored' }) valueChanged?: boolean;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Rolled back only: the version whose value this one sealed again' }) toVersion?: number;
  @ApiPropertyOptional({ type: DestroyedDto, description: 'The value this version holds was destroyed: it can never be opened again' }) destroyed?: DestroyedDto;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'Added: the expiry, if any; Updated: the new one, only when it changed (null: cleared)' })
  expiresAt?: string | null;
}

export class SecretHistoryDto implements Items<SecretHistoryEntry> {
  @ApiProperty({ type: [SecretHistoryEntryDto] }) items!: SecretHistoryEntryDto[];
}
