import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsOptional, IsString } from 'class-validator';
import { VerifyResultDto } from '../audit/audit.dto';

// The OpenAPI shapes of the checkpoint routes (SPEC §3); the routes return the plain objects.

export class SignedCheckpointDto {
  @ApiProperty({ type: 'integer', minimum: 1, description: 'The seq of the newest event the checkpoint covers' }) seq!: number;
  @ApiProperty({ description: "That event's hash (SHA-256, hex)" }) hash!: string;
  @ApiProperty({ format: 'date-time', description: 'When the checkpoint was made' }) at!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'The seq of the checkpoint before (0: none)' }) previous!: number;
  @ApiProperty({ description: 'The signing key: the first 16 bytes of SHA-256 over its public key (SPKI DER), hex' }) keyId!: string;
  @ApiProperty({ description: 'Ed25519 over ["secrets-ledger checkpoint v1", seq, hash, at, previous] as JSON, base64' }) signature!: string;
}

export class CheckpointPageDto {
  @ApiProperty({ type: [SignedCheckpointDto] }) items!: SignedCheckpointDto[];
  @ApiProperty({ type: 'integer', nullable: true, description: 'Pass it back as `after` for the next page; null on the last one' }) next!: number | null;
}

export class VerifyWithCheckpointsDto {
  @ApiProperty({ type: [SignedCheckpointDto], description: 'The checkpoints kept elsewhere: the lines of the sink\'s file, each parsed' })
  @IsArray()
  checkpoints!: unknown[];

  @ApiPropertyOptional({ description: "The public key to check the signatures with, as the base64 of its SPKI DER (the PEM's body, without its lines); default: this service's own" })
  @IsOptional()
  @IsString()
  publicKey?: string;
}

export class CheckpointProblemDto {
  @ApiProperty({ type: 'integer', description: "The checkpoint's seq" }) seq!: number;
  @ApiProperty({ enum: ['forged', 'rewritten', 'truncated', 'missing'] }) kind!: string;
  @ApiProperty() reason!: string;
}

export class CheckpointReportDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Checkpoints read' }) checked!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'The highest seq a genuine checkpoint covers' }) newestSeq!: number;
  @ApiProperty({ description: 'The key the signatures were checked with' }) keyId!: string;
  @ApiProperty({ type: [CheckpointProblemDto], description: 'Empty when every checkpoint is genuine and the log agrees with it' }) problems!: CheckpointProblemDto[];
}

export class VerifyWithCheckpointsResultDto extends VerifyResultDto {
  @ApiProperty({ type: CheckpointReportDto }) checkpoints!: CheckpointReportDto;
}
