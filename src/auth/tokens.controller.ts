import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiJsonBody, ApiProblems } from '../openapi/api-docs';
import { ValidationError } from '../common/errors';
import { CurrentPrincipal } from './auth.guard';
import { Principal, actorOf } from './principal';
import { Roles } from './roles.decorator';
import { IssueTokenDto, IssuedTokenDto, TokenListDto, TokenDto } from './tokens.dto';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@ApiAuthenticated()
@Controller('api/v1/tokens')
@Roles('admin')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @ApiOperation({ summary: 'Issue a token', description: 'A new bearer token, shown in this response only (Cache-Control: no-store); only its hash is stored. A TokenIssued event.' })
  @ApiCreatedResponse({ type: IssuedTokenDto, description: 'Issued' })
  @ApiJsonBody()
  async issue(@Body() body: IssueTokenDto, @CurrentPrincipal() principal: Principal): Promise<IssuedTokenDto> {
    // A plugin limit on an admin or auditor token would promise a restriction nothing enforces.
    if (body.plugins !== undefined && body.plugins !== null && body.role !== 'executor') {
      throw new ValidationError('The token request is invalid.', [{ field: 'plugins', message: 'only executor tokens may be limited to plugins' }]);
    }
    const issued = await this.tokens.issue({ name: body.name, role: body.role, plugins: body.plugins ?? null }, actorOf(principal));
    return { id: issued.id, name: issued.name, role: issued.role, plugins: issued.plugins, createdAt: issued.createdAt, token: issued.token };
  }

  @Get()
  @ApiOperation({ summary: 'List tokens', description: 'Every token ever issued, revoked ones included. Never a token or its hash.' })
  @ApiOkResponse({ type: TokenListDto, description: 'The tokens' })
  async list(): Promise<TokenListDto> {
    return { items: (await this.tokens.list()).map(TokenDto.from) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a token', description: 'Refused from the next request on. The last active admin token cannot be revoked (409). A TokenRevoked event.' })
  @ApiParam({ name: 'id', description: 'The token id (tok_…)' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(404, 409)
  async revoke(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.tokens.revoke(id, actorOf(principal));
  }
}
