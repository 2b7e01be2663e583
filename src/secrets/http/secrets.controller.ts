import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal } from '../../auth/auth.guard';
import { Principal, actorOf } from '../../auth/principal';
import { Roles } from '../../auth/roles.decorator';
import type { PresentSecretState } from '../domain/secret-state';
import { SecretValue } from '../domain/secret-value';
import { SecretsService } from '../secrets.service';
import { etagOf, expectedVersionFrom } from './http-preconditions';
import { SecretKeyPipe } from './secret-key.pipe';
import { MAX_SECRETS_PAGE, parseSecretListQuery, secretListCursor } from './secret-list-query';
import { CreateSecretDto, SecretHistoryDto, SecretListDto, SecretMetaDto, UpdateSecretDto } from './secret.dto';

@ApiTags('secrets')
@ApiBearerAuth()
@Controller('api/v1/secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Get()
  @Roles('admin', 'auditor')
  @ApiQuery({ name: 'after', required: false, description: 'the next cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: `1-${MAX_SECRETS_PAGE}, default ${MAX_SECRETS_PAGE}` })
  list(@Query() query: Record<string, unknown>): SecretListDto {
    const { afterKey, limit } = parseSecretListQuery(query);
    const { items, more } = this.secrets.page(afterKey, limit);
    return { items: items.map(SecretMetaDto.from), next: more ? secretListCursor(items[items.length - 1].key) : null };
  }

  @Get(':key')
  @Roles('admin', 'auditor')
  @ApiResponse({ status: 200, type: SecretMetaDto })
  get(@Param('key', SecretKeyPipe) key: string, @Res({ passthrough: true }) reply: FastifyReply): SecretMetaDto {
    return respond(reply, this.secrets.get(key));
  }

  @Post()
  @Roles('admin')
  @ApiResponse({ status: 201, type: SecretMetaDto })
  async create(@Body() body: CreateSecretDto, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply): Promise<SecretMetaDto> {
    const state = await this.secrets.execute(
      { type: 'AddSecret', key: body.key, value: new SecretValue(body.value), description: body.description },
      actorOf(principal),
    );
    void reply.header('Location', `/api/v1/secrets/${encodeURIComponent(body.key)}`);
    return respond(reply, state);
  }

  @Patch(':key')
  @Roles('admin')
  @ApiHeader({ name: 'If-Match', required: false, description: 'The ETag last seen; 412 if the secret has changed since.' })
  @ApiResponse({ status: 200, type: SecretMetaDto })
  async update(
    @Param('key', SecretKeyPipe) key: string,
    @Body() body: UpdateSecretDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SecretMetaDto> {
    const state = await this.secrets.execute(
      {
        type: 'UpdateSecret',
        key,
        value: body.value === undefined ? undefined : new SecretValue(body.value),
        description: body.description,
        expectedVersion: expectedVersionFrom(ifMatch),
      },
      actorOf(principal),
    );
    return respond(reply, state);
  }

  @Delete(':key')
  @Roles('admin')
  @HttpCode(204)
  @ApiHeader({ name: 'If-Match', required: false })
  async remove(@Param('key', SecretKeyPipe) key: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.secrets.execute({ type: 'RemoveSecret', key, expectedVersion: expectedVersionFrom(ifMatch) }, actorOf(principal));
  }

  @Get(':key/history')
  @Roles('admin', 'auditor')
  history(@Param('key', SecretKeyPipe) key: string): SecretHistoryDto {
    return { items: this.secrets.history(key) };
  }
}

function respond(reply: FastifyReply, state: PresentSecretState | { status: 'absent' }): SecretMetaDto {
  if (state.status === 'absent') throw new Error('a command on an existing secret returned no state');
  void reply.header('ETag', etagOf(state.version));
  return SecretMetaDto.from(state);
}
