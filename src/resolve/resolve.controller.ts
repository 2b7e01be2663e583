import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiJsonBody } from '../openapi/api-docs';
import { CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import type { ResolveReply, ResolveRequest } from '../contract/api-types';
import { ResolveService, type ResolveRequest as UncheckedResolveRequest } from './resolve.service';

/** The request's shape for the OpenAPI document only: ResolveService checks it, for HTTP and NATS alike. */
class ResolveDto implements ResolveRequest {
  @ApiProperty({ example: '@voxel51/annotation' }) plugin!: string;
  @ApiProperty({ type: [String], example: ['FIFTYONE_CVAT_URL'] }) keys!: string[];
}

class ResolveResultDto implements ResolveReply {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'The values, by key', example: { FIFTYONE_CVAT_URL: 'https://cvat.example' } })
  secrets!: Record<string, string>;
  @ApiProperty({ type: [String], description: 'Keys asked for that are not stored' }) missing!: string[];
  @ApiProperty({ type: [String], description: 'Keys whose stored value would not open (integrity failure); never returned, never guessed' })
  unreadable!: string[];
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Store-wide count of secret-state events; contiguous' }) revision!: number;
}

@ApiTags('resolve')
@ApiAuthenticated()
@Controller('api/v1/resolve')
export class ResolveController {
  constructor(private readonly resolver: ResolveService) {}

  @Post()
  @HttpCode(200)
  @Roles('executor')
  @ApiOperation({
    summary: 'Resolve secret values',
    description: "The values of the keys a plugin declares (1-256 unique keys), for an executor token allowed that plugin. The only response with values (Cache-Control: no-store); recorded as a SecretsResolved event before it is sent.",
  })
  @ApiBody({ type: ResolveDto })
  @ApiOkResponse({ type: ResolveResultDto, description: 'The values found, and the keys missing' })
  @ApiJsonBody()
  // Typed as the plain request, not the DTO class, so the global ValidationPipe leaves it to
  // ResolveService: one set of rules for both transports, and no class-transformer pass on the
  // hottest HTTP route.
  resolve(@Body() body: UncheckedResolveRequest, @CurrentPrincipal() principal: Principal): Promise<ResolveReply> {
    return this.resolver.resolve(principal, body);
  }
}
