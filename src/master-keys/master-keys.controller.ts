import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { CurrentPrincipal } from '../auth/auth.guard';
import { Principal, actorOf } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { MasterKeysService, OnlineRotationResult } from './master-keys.service';

class RotateMasterKeyDto {
  @ApiPropertyOptional({ description: 'The key id the caller expects to be active (SECRETS_MASTER_KEYS); refused (409) if the service wraps with another' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'activeKid must be 1-64 characters of A-Z a-z 0-9 . _ -' })
  activeKid?: string;
}

class RotationResultDto {
  @ApiProperty({ type: [String] }) from!: string[];
  @ApiProperty() to!: string;
  @ApiProperty() rewrapped!: number;
  @ApiProperty({ type: [String], description: 'Key ids no data key uses and the service does not wrap with: they may be removed' })
  retirable!: string[];
  @ApiProperty() seq!: number;
  @ApiPropertyOptional({ description: 'The development key generated for this rotation' }) generated?: string;
}

@ApiTags('master-keys')
@ApiBearerAuth()
@Controller('api/v1/master-keys')
export class MasterKeysController {
  constructor(private readonly masterKeys: MasterKeysService) {}

  /** Rewraps every data key under the active master key (development: a new one first). */
  @Post('rotate')
  @HttpCode(200)
  @Roles('admin')
  @ApiResponse({ status: 200, type: RotationResultDto })
  rotate(@Body() body: RotateMasterKeyDto, @CurrentPrincipal() principal: Principal): Promise<OnlineRotationResult> {
    return this.masterKeys.rotate({ activeKid: body.activeKid }, actorOf(principal));
  }
}
