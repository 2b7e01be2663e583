import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiJsonBody, ApiProblems, ETAG_HEADER, LOCATION_HEADER } from '../../openapi/api-docs';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal } from '../../auth/auth.guard';
import { Principal, actorOf } from '../../auth/principal';
import { Roles } from '../../auth/roles.decorator';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/configuration';
import { SecretValue } from '../../crypto/secret-value';
import { expiryStatus } from '../domain/expiry';
import type { PresentSecretState } from '../domain/secret-state';
import { SecretsService } from '../secrets.service';
import { etagOf, expectedVersionFrom } from './http-preconditions';
import { SecretKeyPipe, SecretVersionPipe } from './secret-key.pipe';
import { MAX_SECRETS_PAGE, parseSecretListQuery, secretListCursor } from './secret-list-query';
import { CreateSecretDto, RollbackSecretDto, SecretHistoryDto, SecretListDto, SecretMetaDto, UpdateSecretDto } from './secret.dto';

const KEY_PARAM = ApiParam({ name: 'key', description: 'The secret key (upper snake case)', example: 'FIFTYONE_CVAT_URL' });
const IF_MATCH = (what: string) =>
  ApiHeader({ name: 'If-Match', required: false, description: `The ETag last seen ("3"); ${what} only if the secret is still at that version, else 412.` });

@ApiTags('secrets')
@ApiAuthenticated()
@Controller('api/v1/secrets')
export class SecretsController {
  constructor(
    private readonly secrets: SecretsService,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'expiry'>,
  ) {}

  /** A secret's metadata, with its expiry judged now. */
  private meta(state: PresentSecretState, now = new Date()): SecretMetaDto {
    return SecretMetaDto.from(state, expiryStatus(state.expiresAt, now, this.config.expiry.warningDays));
  }

  @Get()
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: 'List secrets', description: "Secrets' metadata, sorted by key, a page at a time (follow `next`). Never a value." })
  @ApiQuery({ name: 'after', required: false, type: String, description: 'the `next` cursor of the previous page (opaque)' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_SECRETS_PAGE, default: MAX_SECRETS_PAGE }, description: `1-${MAX_SECRETS_PAGE}, default ${MAX_SECRETS_PAGE}` })
  @ApiOkResponse({ type: SecretListDto, description: 'A page of secrets' })
  @ApiProblems(400)
  async list(@Query() query: Record<string, unknown>): Promise<SecretListDto> {
    const { afterKey, limit } = parseSecretListQuery(query);
    const { items, more } = await this.secrets.page(afterKey, limit);
    const now = new Date();
    return { items: items.map((item) => this.meta(item, now)), next: more ? secretListCursor(items[items.length - 1].key) : null };
  }

  @Get(':key')
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: 'Show a secret', description: "One secret's metadata; its version is also the ETag. Never the value." })
  @KEY_PARAM
  @ApiOkResponse({ type: SecretMetaDto, description: 'The secret', headers: ETAG_HEADER })
  @ApiProblems(404)
  async get(@Param('key', SecretKeyPipe) key: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<SecretMetaDto> {
    return this.respond(reply, await this.secrets.get(key));
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Add a secret', description: 'Stores a new secret (version 1, or the next version after a removal) as a SecretAdded event; the value is encrypted.' })
  @ApiCreatedResponse({ type: SecretMetaDto, description: 'Added', headers: { ...LOCATION_HEADER, ...ETAG_HEADER } })
  @ApiJsonBody()
  @ApiProblems(409)
  async create(@Body() body: CreateSecretDto, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply): Promise<SecretMetaDto> {
    const state = await this.secrets.execute(
      { type: 'AddSecret', key: body.key, value: new SecretValue(body.value), description: body.description, expiresAt: body.expiresAt },
      actorOf(principal),
    );
    void reply.header('Location', `/api/v1/secrets/${encodeURIComponent(body.key)}`);
    return this.respond(reply, state);
  }

  @Patch(':key')
  @Roles('admin')
  @ApiOperation({ summary: 'Change a secret', description: 'A new value, a new description, or both, as one SecretUpdated event.' })
  @KEY_PARAM
  @IF_MATCH('changes it')
  @ApiOkResponse({ type: SecretMetaDto, description: 'Changed', headers: ETAG_HEADER })
  @ApiJsonBody()
  @ApiProblems(404, 412)
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
        expiresAt: body.expiresAt,
        expectedVersion: expectedVersionFrom(ifMatch),
      },
      actorOf(principal),
    );
    return this.respond(reply, state);
  }

  @Delete(':key')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a secret', description: 'A SecretRemoved event; the history stays, and a re-added key continues its versions.' })
  @KEY_PARAM
  @IF_MATCH('removes it')
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(404, 412)
  async remove(@Param('key', SecretKeyPipe) key: string, @Headers('if-match') ifMatch: string | undefined, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.secrets.execute({ type: 'RemoveSecret', key, expectedVersion: expectedVersionFrom(ifMatch) }, actorOf(principal));
  }

  @Post(':key/rollback')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Roll a secret back to an earlier version',
    description:
      "A SecretRolledBack event whose value is version `toVersion`'s, opened and sealed again under a fresh data key inside the service: the caller never receives it. " +
      '409 when that version was destroyed, removed the secret, or is the current one.',
  })
  @KEY_PARAM
  @IF_MATCH('rolls it back')
  @ApiOkResponse({ type: SecretMetaDto, description: 'Rolled back', headers: ETAG_HEADER })
  @ApiJsonBody()
  @ApiProblems(404, 409, 412)
  async rollback(
    @Param('key', SecretKeyPipe) key: string,
    @Body() body: RollbackSecretDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SecretMetaDto> {
    const state = await this.secrets.execute({ type: 'RollbackSecret', key, toVersion: body.toVersion, expectedVersion: expectedVersionFrom(ifMatch) }, actorOf(principal));
    return this.respond(reply, state);
  }

  @Delete(':key/versions/:version')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({
    summary: "Destroy one version's value",
    description:
      "Deletes the data key of the value that version sealed and appends SecretVersionDestroyed: that value can never be opened again, from the database or any later backup. The log is untouched. 409 for the version holding the current value (update or remove first) or one that sealed no value of its own; destroying a destroyed version again changes nothing.",
  })
  @KEY_PARAM
  @ApiParam({ name: 'version', description: 'The version whose value to destroy', example: 1 })
  @ApiNoContentResponse({ description: 'Destroyed' })
  @ApiProblems(400, 404, 409)
  async destroyVersion(@Param('key', SecretKeyPipe) key: string, @Param('version', SecretVersionPipe) version: number, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.secrets.destroyVersion({ type: 'DestroySecretVersion', key, version }, actorOf(principal));
  }

  @Get(':key/history')
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: "A secret's history", description: 'Every version: what happened, when, by whom. Never a value.' })
  @KEY_PARAM
  @ApiOkResponse({ type: SecretHistoryDto, description: 'The versions, oldest first' })
  @ApiProblems(404)
  async history(@Param('key', SecretKeyPipe) key: string): Promise<SecretHistoryDto> {
    return { items: await this.secrets.history(key) };
  }

  private respond(reply: FastifyReply, state: PresentSecretState | { status: 'absent' }): SecretMetaDto {
    if (state.status === 'absent') throw new Error('a command on an existing secret returned no state');
    void reply.header('ETag', etagOf(state.version));
    return this.meta(state);
  }
}
