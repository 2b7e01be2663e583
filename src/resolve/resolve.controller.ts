import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { ResolveRequest, ResolveResult, ResolveService } from './resolve.service';

/** The request's shape for the OpenAPI document only: ResolveService checks it, for HTTP and NATS alike. */
class ResolveDto {
  @ApiProperty({ example: '@voxel51/annotation' }) plugin!: string;
  @ApiProperty({ type: [String], example: ['FIFTYONE_CVAT_URL'] }) keys!: string[];
}

class ResolveResultDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) secrets!: Record<string, string>;
  @ApiProperty({ type: [String] }) missing!: string[];
  @ApiProperty({ type: [String], description: 'Keys whose stored value would not open (integrity failure); never guessed' }) unreadable!: string[];
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
  @ApiBody({ type: ResolveDto })
  @ApiResponse({ status: 200, type: ResolveResultDto })
  // Typed as the plain request, not the DTO class, so the global ValidationPipe leaves it to
  // ResolveService: one set of rules for both transports, and no class-transformer pass on the
  // hottest HTTP route.
  resolve(@Body() body: ResolveRequest, @CurrentPrincipal() principal: Principal): Promise<ResolveResult> {
    return this.resolver.resolve(principal, body);
  }
}
