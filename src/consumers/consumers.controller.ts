import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-docs';
import { SecretKeyPipe } from '../secrets/http/secret-key.pipe';
import { ConsumersService } from './consumers.service';
import type { SecretConsumer } from './secret-consumers';

class SecretConsumerDto {
  @ApiProperty({ example: 'tok_0190a1b2-…' }) tokenId!: string;
  @ApiProperty({ description: "The token's name when it read" }) tokenName!: string;
  @ApiProperty({ example: '@voxel51/annotation' }) plugin!: string;
  @ApiProperty({ type: 'integer', minimum: 1, description: 'The version of the key its last resolve returned' }) version!: number;
  @ApiProperty({ format: 'date-time', description: 'When that resolve was recorded' }) resolvedAt!: string;
  @ApiProperty({ description: 'Whether that version carries the current value (false once a newer value exists, or the secret was removed)' }) current!: boolean;
  @ApiProperty({ description: 'Not current more than a minute after the change, while the secret is active and the token not revoked' }) stale!: boolean;
}

class SecretConsumersDto {
  @ApiProperty({ type: [SecretConsumerDto] }) items!: SecretConsumerDto[];
}

@ApiTags('secrets')
@ApiAuthenticated()
@Controller('api/v1/secrets')
export class ConsumersController {
  constructor(private readonly consumers: ConsumersService) {}

  @Get(':key/consumers')
  @Roles('admin', 'auditor')
  @ApiOperation({
    summary: 'Who holds which version',
    description: 'For each token and plugin that resolved this key, the version its last resolve returned and whether that is the current value. Never a value.',
  })
  @ApiParam({ name: 'key', description: 'The secret key (upper snake case)', example: 'FIFTYONE_CVAT_URL' })
  @ApiOkResponse({ type: SecretConsumersDto, description: 'The consumers, most recent read first' })
  @ApiProblems(404)
  async list(@Param('key', SecretKeyPipe) key: string): Promise<{ items: SecretConsumer[] }> {
    return { items: await this.consumers.of(key) };
  }
}
