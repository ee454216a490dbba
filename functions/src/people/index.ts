export { SOURCE_NAMES, type SourceName, type SourcePerson } from './source-person.js';
export { normalizeEmail } from './normalize-email.js';
export {
  DEFAULT_PRECEDENCE_POLICY,
  RESERVED_FIELDS,
  precedenceFor,
  precedencePolicySchema,
  type PrecedencePolicy,
} from './precedence-policy.js';
export {
  hasValue,
  mergePerson,
  type MergedPerson,
  type PersonStatus,
  type SourceRecord,
  type SourceUpdate,
} from './merge-person.js';
export { personRecordId } from './person-record-id.js';
export {
  PeopleStore,
  addApplyResults,
  emptyApplyResult,
  loadPrecedencePolicy,
  parseStoredPerson,
  type ApplyContext,
  type ApplyResult,
  type PeopleStoreOptions,
  type PersonChange,
} from '../store/people.js';
