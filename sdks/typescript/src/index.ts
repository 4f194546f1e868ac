export { ProvenantClient, VERSION } from './client.js';
export type { ClientOptions } from './client.js';
export {
  APIConnectionError,
  AuthenticationError,
  ConflictError,
  HttpError,
  NotFoundError,
  PermissionDeniedError,
  ProvenantError,
  RateLimitError,
} from './errors.js';
export type { ErrorDetail } from './errors.js';
export type { Agent, AgentCreateParams, AgentGetOrCreateOptions, AgentStatus } from './resources/agents.js';
export type { ApiKey, ApiKeyCreateParams, ApiKeyWithSecret } from './resources/api-keys.js';
export type { Me, Org, Role } from './resources/auth.js';
export type {
  Session,
  SessionCreateParams,
  SessionEndParams,
  SessionStatus,
  SessionWithTurns,
  Turn,
  TurnCreateParams,
  TurnRole,
} from './resources/sessions.js';
