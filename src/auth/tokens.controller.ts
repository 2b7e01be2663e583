import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ValidationError } from '../common/errors';
import { CurrentPrincipal } from './auth.guard';
import { Principal, actorOf } from './principal';
import { Roles } from './roles.decorator';
import { IssueTokenDto, IssuedTokenDto, TokenListDto, TokenDto } from './tokens.dto';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@ApiBearerAuth()
@Controller('api/v1/tokens')
@Roles('admin')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @ApiResponse({ status: 201, type: IssuedTokenDto })
  async issue(@Body() body: IssueTokenDto, @CurrentPrincipal() principal: Principal): Promise<IssuedTokenDto> {
    // A plugin limit on an admin or auditor token would promise a restriction nothing enforces.
    if (body.plugins !== undefined && body.plugins !== null && body.role !== 'executor') {
      throw new ValidationError('The token request is invalid.', [{ field: 'plugins', message: 'only executor tokens may be limited to plugins' }]);
    }
    const issued = await this.tokens.issue({ name: body.name, role: body.role, plugins: body.plugins ?? null }, actorOf(principal));
    return { id: issued.id, name: issued.name, role: issued.role, plugins: issued.plugins, createdAt: issued.createdAt, token: issued.token };
  }

  @Get()
  list(): TokenListDto {
    return { items: this.tokens.list().map(TokenDto.from) };
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.tokens.revoke(id, actorOf(principal));
  }
}
