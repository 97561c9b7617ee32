/** The Graph connector's public API (src/graph is a leaf: Entra and Graph in, SourceSnapshot out). */
export {
  adminConsentUrl,
  CLOUD_NAMES,
  CLOUDS,
  type Cloud,
  type Endpoints,
  resolveEndpoints,
} from './clouds.js';
export {
  type ConnectorOptions,
  type DeltaCursor,
  type DiagnosticReport,
  type DiagnosticStep,
  type GraphConnection,
  GraphConnector,
  mirrorOf,
  type ReadOnto,
  type ReadProgress,
  type ReadResult,
  type ReadStats,
  type SourceMirror,
  type TenantDomain,
  validateConnection,
} from './connector.js';
export {
  GRAPH_ERROR_CODES,
  GRAPH_ERRORS,
  GraphError,
  type GraphErrorCode,
  grantsOptional,
  missingPermissions,
  type OptionalPermission,
} from './errors.js';
export {
  type MailboxIssue,
  type MailboxIssueCause,
  type MailboxReads,
  planMailboxReads,
} from './mailboxes.js';
export { INTERACTIVE, PATIENT, type Patience } from './retry.js';
