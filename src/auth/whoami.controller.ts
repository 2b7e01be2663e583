import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from './auth.guard';
import { type Principal, ROLES, type Role } from './principal';
import { Roles } from './roles.decorator';

export class WhoamiDto {
  @ApiProperty({ example: 'tok_…' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
}

/**
 * The caller's own identity, so a client (the console) can adapt to its role without probing
 * routes it may not call: every refused probe would be an `AccessDenied` event in the trail.
 */
@ApiTags('tokens')
@ApiBearerAuth()
@Controller('api/v1/whoami')
export class WhoamiController {
  @Get()
  @Roles('admin', 'auditor', 'executor')
  @ApiResponse({ status: 200, type: WhoamiDto })
  whoami(@CurrentPrincipal() principal: Principal): WhoamiDto {
    return { id: principal.id, name: principal.name, role: principal.role };
  }
}
