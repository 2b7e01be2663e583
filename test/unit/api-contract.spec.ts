import type * as Contract from '../../src/contract/api-types';
import type { FieldProblem, ProblemDetails } from '../../src/contract/problem';
import type { AuditEntryDto, AuditHeadDto, AuditPageDto, ChainPointDto, StateDisagreementDto, VerifyResultDto } from '../../src/audit/audit.dto';
import type { IssueTokenDto, IssuedTokenDto, TokenDto, TokenListDto } from '../../src/auth/tokens.dto';
import type { WhoamiDto } from '../../src/auth/whoami.controller';
import type { Actor } from '../../src/event-store/event';
import type { RotateMasterKeyDto, RotationResultDto } from '../../src/master-keys/master-keys.controller';
import type { FieldErrorDto, ProblemDetailsDto } from '../../src/openapi/problem-details.dto';
import type { ActorDto, CreateSecretDto, SecretHistoryDto, SecretHistoryEntryDto, SecretListDto, SecretMetaDto, UpdateSecretDto } from '../../src/secrets/http/secret.dto';

/**
 * The service's OpenAPI DTOs and the contract's types (what the SDK, the CLI and the console
 * read) are the same shapes: the same fields, each as optional and of the same type. A DTO
 * that gains, loses or retypes a field fails this file's compilation (ts-jest and
 * `npm run typecheck`), until the contract says the same.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const agreements: { [name: string]: true } = {
  Actor: true as Same<ActorDto, Contract.Actor>,
  'the log’s Actor': true as Same<Actor, Contract.Actor>,
  SecretMeta: true as Same<SecretMetaDto, Contract.SecretMeta>,
  'Page<SecretMeta>': true as Same<SecretListDto, Contract.Page<Contract.SecretMeta>>,
  AddSecretRequest: true as Same<CreateSecretDto, Contract.AddSecretRequest>,
  ChangeSecretRequest: true as Same<UpdateSecretDto, Contract.ChangeSecretRequest>,
  SecretHistoryEntry: true as Same<SecretHistoryEntryDto, Contract.SecretHistoryEntry>,
  'Items<SecretHistoryEntry>': true as Same<SecretHistoryDto, Contract.Items<Contract.SecretHistoryEntry>>,
  TokenInfo: true as Same<TokenDto, Contract.TokenInfo>,
  IssueTokenRequest: true as Same<IssueTokenDto, Contract.IssueTokenRequest>,
  IssuedToken: true as Same<IssuedTokenDto, Contract.IssuedToken>,
  'Items<TokenInfo>': true as Same<TokenListDto, Contract.Items<Contract.TokenInfo>>,
  Whoami: true as Same<WhoamiDto, Contract.Whoami>,
  AuditEntry: true as Same<AuditEntryDto, Contract.AuditEntry>,
  'Page<AuditEntry>': true as Same<AuditPageDto, Contract.Page<Contract.AuditEntry>>,
  ChainPoint: true as Same<ChainPointDto, Contract.ChainPoint>,
  AuditHead: true as Same<AuditHeadDto, Contract.AuditHead>,
  StateDisagreement: true as Same<StateDisagreementDto, Contract.StateDisagreement>,
  VerifyResult: true as Same<VerifyResultDto, Contract.VerifyResult>,
  RotateMasterKeyRequest: true as Same<RotateMasterKeyDto, Contract.RotateMasterKeyRequest>,
  MasterKeyRotationReport: true as Same<RotationResultDto, Contract.MasterKeyRotationReport>,
  FieldProblem: true as Same<FieldErrorDto, FieldProblem>,
  ProblemDetails: true as Same<ProblemDetailsDto, ProblemDetails>,
};

// Controls: the comparison tells an extra field, a missing one, an optional one and a retyped one apart.
const controls: false[] = [
  false as Same<Contract.SecretMeta & { expiresAt: string }, Contract.SecretMeta>,
  false as Same<Omit<Contract.SecretMeta, 'updatedBy'>, Contract.SecretMeta>,
  false as Same<Partial<Contract.SecretMeta>, Contract.SecretMeta>,
  false as Same<Omit<Contract.TokenInfo, 'plugins'> & { plugins: string[] }, Contract.TokenInfo>,
];

describe('the API contract (src/contract) and the service’s DTOs', () => {
  it('agree on every shape the clients read (checked when this file compiles)', () => {
    expect(Object.values(agreements).every((same) => same)).toBe(true);
    expect(Object.keys(agreements).length).toBeGreaterThan(0);
    expect(controls).toHaveLength(4);
  });
});
