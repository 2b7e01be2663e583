import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { CurrentPrincipal } from '../auth/auth.guard';
import { Principal, actorOf } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import type { MasterKeyRotationReport, RotateMasterKeyRequest } from '../contract/api-types';
import { ApiAuthenticated, ApiJsonBody, ApiProblems } from '../openapi/api-docs';
import { MasterKeysService } from './master-keys.service';

export class RotateMasterKeyDto implements RotateMasterKeyRequest {
  @ApiPropertyOptional({ description: 'The key id the caller expects to be active (SECRETS_MASTER_KEYS); refused (409) if the service wraps with another' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'activeKid must be 1-64 characters of A-Z a-z 0-9 . _ -' })
  activeKid?: string;
}

export class RotationResultDto implements MasterKeyRotationReport {
  @ApiProperty({ type: [String], description: 'The key ids data keys were wrapped with before' }) from!: string[];
  @ApiProperty({ description: 'The active key id every data key is wrapped with now' }) to!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Data keys rewrapped' }) rewrapped!: number;
  @ApiProperty({ type: [String], description: 'Key ids no data key uses and the service does not wrap with: they may be removed' })
  retirable!: string[];
  @ApiProperty({ type: 'integer', minimum: 1, description: 'The seq of the MasterKeyRotated event' }) seq!: number;
  @ApiPropertyOptional({ description: 'The development key generated for this rotation' }) generated?: string;
}

@ApiTags('master-keys')
@ApiAuthenticated()
@Controller('api/v1/master-keys')
export class MasterKeysController {
  constructor(private readonly masterKeys: MasterKeysService) {}

  @Post('rotate')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({
    summary: 'Rotate the master key',
    description:
      'Rewraps every data key under the master key this service wraps with (development key file: a new key, written first in the file). ' +
      'What `rotate-master-key` calls while a service holds the database. The log is not rewritten; a MasterKeyRotated event.',
  })
  @ApiOkResponse({ type: RotationResultDto, description: 'Rotated' })
  @ApiJsonBody()
  @ApiProblems(409)
  rotate(@Body() body: RotateMasterKeyDto, @CurrentPrincipal() principal: Principal): Promise<MasterKeyRotationReport> {
    return this.masterKeys.rotate({ activeKid: body.activeKid }, actorOf(principal));
  }
}
