import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsArray, IsString } from 'class-validator';
import { CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { ResolveResult, ResolveService } from './resolve.service';

class ResolveDto {
  @ApiProperty({ example: '@voxel51/annotation' }) @IsString() plugin!: string;
  @ApiProperty({ type: [String], example: ['FIFTYONE_CVAT_URL'] }) @IsArray() keys!: string[];
}

class ResolveResultDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) secrets!: Record<string, string>;
  @ApiProperty({ type: [String] }) missing!: string[];
  @ApiProperty({ description: 'Store-wide count of secret-state events; contiguous' }) revision!: number;
}

@ApiTags('resolve')
@ApiBearerAuth()
@Controller('api/v1/resolve')
export class ResolveController {
  constructor(private readonly resolver: ResolveService) {}

  @Post()
  @HttpCode(200)
  @Roles('executor')
  @ApiResponse({ status: 200, type: ResolveResultDto })
  resolve(@Body() body: ResolveDto, @CurrentPrincipal() principal: Principal): Promise<ResolveResult> {
    return this.resolver.resolve(principal, body);
  }
}
