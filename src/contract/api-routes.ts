import { CHANGES_PATH } from './change-notification';
import type {
  AddSecretRequest,
  AuditEntry,
  AuditHead,
  ChangeSecretRequest,
  IssueTokenRequest,
  IssuedToken,
  Items,
  MasterKeyRotationReport,
  Page,
  ResolveReply,
  ResolveRequest,
  RollbackSecretRequest,
  RotateMasterKeyRequest,
  SecretConsumer,
  SecretHistoryEntry,
  SecretMeta,
  TokenInfo,
  VerifyResult,
  Whoami,
} from './api-types';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * One route of the API as clients call it: the method, the path (relative to the service's base
 * address, `{name}` for a parameter, as the OpenAPI document spells it), and, as types only, what
 * it takes and answers.
 */
export interface Operation<Reply, Body = undefined> {
  readonly method: Method;
  readonly path: string;
  /** Never set: carries the types. */
  readonly types?: { reply: Reply; body: Body };
}

const route = <Reply, Body = undefined>(method: Method, path: string): Operation<Reply, Body> => ({ method, path });

/** Every route a client of this repository calls; test/e2e/api-contract checks each against the OpenAPI document. */
export const API = {
  listSecrets: route<Page<SecretMeta>>('GET', 'api/v1/secrets'),
  getSecret: route<SecretMeta>('GET', 'api/v1/secrets/{key}'),
  addSecret: route<SecretMeta, AddSecretRequest>('POST', 'api/v1/secrets'),
  changeSecret: route<SecretMeta, ChangeSecretRequest>('PATCH', 'api/v1/secrets/{key}'),
  removeSecret: route<void>('DELETE', 'api/v1/secrets/{key}'),
  secretHistory: route<Items<SecretHistoryEntry>>('GET', 'api/v1/secrets/{key}/history'),
  rollbackSecret: route<SecretMeta, RollbackSecretRequest>('POST', 'api/v1/secrets/{key}/rollback'),
  destroySecretVersion: route<void>('DELETE', 'api/v1/secrets/{key}/versions/{version}'),
  secretConsumers: route<Items<SecretConsumer>>('GET', 'api/v1/secrets/{key}/consumers'),
  issueToken: route<IssuedToken, IssueTokenRequest>('POST', 'api/v1/tokens'),
  listTokens: route<Items<TokenInfo>>('GET', 'api/v1/tokens'),
  revokeToken: route<void>('DELETE', 'api/v1/tokens/{id}'),
  auditPage: route<Page<AuditEntry>>('GET', 'api/v1/audit'),
  auditExport: route<unknown>('GET', 'api/v1/audit/export'),
  auditVerify: route<VerifyResult>('GET', 'api/v1/audit/verify'),
  /** Checkpoints as `audit verify --checkpoints` reads them, and the signer's public key (base64 DER). */
  auditVerifyAgainst: route<VerifyResult, { checkpoints: unknown[]; publicKey?: string }>('POST', 'api/v1/audit/verify'),
  auditHead: route<AuditHead>('GET', 'api/v1/audit/head'),
  whoami: route<Whoami>('GET', 'api/v1/whoami'),
  /** `text/event-stream`, not JSON: read as it arrives. */
  changes: route<unknown>('GET', CHANGES_PATH),
  resolve: route<ResolveReply, ResolveRequest>('POST', 'api/v1/resolve'),
  rotateMasterKey: route<MasterKeyRotationReport, RotateMasterKeyRequest>('POST', 'api/v1/master-keys/rotate'),
} as const;

/** The path of `operation` with its parameters filled in (percent-encoded) and `query` appended. */
export function pathOf(operation: Operation<unknown, unknown>, params: Record<string, string> = {}, query: Record<string, string | undefined> = {}): string {
  const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (params[name] === undefined) throw new Error(`${operation.path} needs ${name}`);
    return encodeURIComponent(params[name]);
  });
  const search = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();
  return search ? `${path}?${search}` : path;
}
