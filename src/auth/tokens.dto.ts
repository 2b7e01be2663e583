import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { PLUGIN_NAME_PATTERN, PLUGIN_NAME_RULE } from './plugin-name';
import { ROLES, Role } from './principal';
import type { IssueTokenRequest, IssuedToken, Items, TokenInfo } from '../contract/api-types';
import type { TokenRecord } from './tokens-repository';

export const MAX_PLUGINS_PER_TOKEN = 100;

export class IssueTokenDto implements IssueTokenRequest {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'cvat-runner' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  @ApiPropertyOptional({ type: [String], description: 'Executor tokens only: the plugins it may resolve for. Omitted: any plugin.' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PLUGINS_PER_TOKEN)
  @Matches(PLUGIN_NAME_PATTERN, { each: true, message: `each plugin ${PLUGIN_NAME_RULE}` })
  plugins?: string[];
}

export class TokenDto implements TokenInfo {
  @ApiProperty({ example: 'tok_0190a1b2-…' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ type: [String], nullable: true, description: 'null: any plugin' }) plugins!: string[] | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null while active' }) revokedAt!: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When it last authenticated, to the minute: a use is recorded when the time recorded is over a minute old, so its latest use is within a minute after this. null: never used.',
  })
  lastUsedAt!: string | null;

  /** Never the token or its hash: a listing identifies tokens, it cannot reproduce one. */
  static from(record: TokenRecord): TokenDto {
    return { id: record.id, name: record.name, role: record.role, plugins: record.plugins, createdAt: record.createdAt, revokedAt: record.revokedAt, lastUsedAt: record.lastUsedAt };
  }
}

export class IssuedTokenDto implements IssuedToken {
  @ApiProperty({ example: 'tok_0190a1b2-…' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ type: [String], nullable: true, description: 'null: any plugin' }) plugins!: string[] | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ description: 'The bearer token. Shown only in this response; only its hash is stored.' }) token!: string;
}

export class TokenListDto implements Items<TokenInfo> {
  @ApiProperty({ type: [TokenDto] }) items!: TokenDto[];
}
