import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated } from '../openapi/api-docs';
import { CurrentPrincipal } from './auth.guard';
import { ROLES, type Role, type Whoami } from '../contract/api-types';
import type { Principal } from './principal';
import { Roles } from './roles.decorator';

export class WhoamiDto implements Whoami {
  @ApiProperty({ example: 'tok_0190a1b2-…', description: 'The token id' }) id!: string;
  @ApiProperty({ example: 'cvat-runner', description: 'The name the token was issued with' }) name!: string;
  @ApiProperty({ enum: ROLES, description: 'What the token may do' }) role!: Role;
}

/**
 * The caller's own identity, so a client (the console) can adapt to its role without probing
 * routes it may not call: every refused probe would be an `AccessDenied` event in the trail.
 */
@ApiTags('tokens')
@ApiAuthenticated()
@Controller('api/v1/whoami')
export class WhoamiController {
  @Get()
  @Roles('admin', 'auditor', 'executor')
  @ApiOperation({ summary: "The caller's identity", description: 'The id, name and role of the token this request carries. Any role; never the token itself.' })
  @ApiOkResponse({ type: WhoamiDto, description: 'Who the token is' })
  whoami(@CurrentPrincipal() principal: Principal): Whoami {
    return { id: principal.id, name: principal.name, role: principal.role };
  }
}
