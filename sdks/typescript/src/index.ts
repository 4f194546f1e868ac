export { ProvenantClient, VERSION } from './client.js';
export type { ClientOptions } from './client.js';
export type { BackgroundOptions } from './background.js';
export { BackgroundSession } from './background-session.js';
export { PagedList } from './pagination.js';
export {
  APIConnectionError,
  APIStatusError,
  APITimeoutError,
  AuthenticationError,
  ConflictError,
  HttpError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  ProvenantError,
  RateLimitError,
  UnprocessableEntityError,
} from './errors.js';
export type { ErrorDetail } from './errors.js';
export type {
  Agent,
  AgentCreateParams,
  AgentGetOrCreateOptions,
  AgentListParams,
  AgentStatus,
  AgentUpdateParams,
} from './resources/agents.js';
export type {
  ApiKey,
  ApiKeyAccess,
  ApiKeyCreateParams,
  ApiKeyListParams,
  ApiKeyRollParams,
  ApiKeyUsageDay,
  ApiKeyWithSecret,
} from './resources/api-keys.js';
export type { AuditEntry, AuditFilter, AuditListParams } from './resources/audit.js';
export type { Me, Org, Permissions, Role } from './resources/auth.js';
export type {
  Json,
  Session,
  SessionCreateParams,
  SessionEndParams,
  SessionListParams,
  SessionStatus,
  SessionUpdateParams,
  SessionWithTurns,
  Turn,
  TurnCreateParams,
  TurnRole,
} from './resources/sessions.js';
export type { Invitation, InvitationCreateParams, InvitationCreated, Member } from './resources/team.js';
