// Public API of the persona layer: keys, the signed device list, the status-message codec, the seed format, the table and its store.
export { personaReady, personaCrypto, setPersonaCrypto, wasmCrypto } from './sodium.js';
export type { PersonaCrypto } from './sodium.js';
export { StatusMessageTooLong, InvalidDeviceList, PersonaKeyError, PersonaTableStoreError, PendingNotFound } from './errors.js';
export type { PersonaKeyErrorCode, PersonaTableStoreErrorCode } from './errors.js';
export {
  generatePersonaKey,
  personaKeyFromSeed,
  savePersonaKey,
  loadPersonaKey,
  exportPersonaKey,
  importPersonaKey,
  DEFAULT_KDF,
  KEY_EXPORT_PREFIX,
} from './keys.js';
export type { PersonaKeyPair, KdfParams, KeyProtectOptions } from './keys.js';
export {
  DEVICE_LIST_VERSION,
  DEVICE_LIST_VERSION_1,
  SIGNING_CONTEXT,
  SIGNING_CONTEXT_BYTES,
  SIGNING_CONTEXT_V1,
  SIGNING_CONTEXT_V1_BYTES,
  CERT_CONTEXT,
  VERSION_CONTEXT,
  FLAG_NAMES,
  FLAG_CERT,
  MAX_NAME_BYTES,
  MAX_DEVICES,
  MAX_SEQ,
  MAX_EPOCH,
  MAX_TTL_SECONDS,
  MAX_SEQ_LEAD_MS,
  HEADER_BYTES,
  HEADER_BYTES_V1,
  CHAIN_HASH_BYTES,
  CERT_BYTES,
  SIGNATURE_BYTES,
  DEFAULT_TTL_SECONDS,
  GENESIS,
  signDeviceList,
  verifySignedList,
  verifyFailure,
  policyFailure,
  certifySigner,
  verifyCert,
  clearCertCache,
  CERT_CACHE_SIZE,
  certSigningInput,
  signerOf,
  versionHash,
  chainRef,
  sameVersion,
  nextDeviceList,
  encodeDeviceListPayload,
  parseSignedRecord,
  signedRecord,
  signingInput,
  listHash,
  sameDevices,
  checkName,
} from './list.js';
export type { Device, DeviceList, SignedDeviceList, SignerCert, SigningKeyPair, ChainRef, PersonaId, ToxPublicKey, RejectReason, Rejection, NextDeviceListOptions } from './list.js';
export { signOwnChange, signOwnRefresh, judgeOwnList, OwnSignerError } from './own.js';
export type { OwnSigner, OwnListJudgement } from './own.js';
export {
  MAX_STATUS_MESSAGE_BYTES,
  STATUS_MARKER,
  ENVELOPE_RAW,
  ENVELOPE_DEFLATE,
  MAX_INFLATED_RECORD_BYTES,
  encodeStatusMessage,
  buildStatusMessage,
  separateHumanText,
  decodeStatusMessage,
  statusMessageBudget,
  encodeBlob,
  rawBlobBytes,
} from './codec.js';
export type { DecodeResult, DecodedStatusMessage, DecodeOptions, Envelope } from './codec.js';
export { encodeSeedStatusMessage, encodeSeedBlob, decodeSeedStatusMessage, SEED_MAX_INFLATED_BYTES } from './seed.js';
export type { SeedDecodeResult, SeedDecoded, SeedRejectReason } from './seed.js';
export {
  TABLE_SCHEMA_VERSION,
  DEFAULT_MAX_CLOCK_SKEW_SECONDS,
  MAX_PENDING_PER_PERSONA,
  MAX_PENDING_PER_SENDER,
  MAX_PENDING_TOTAL,
  emptyTable,
  observeFriend,
  markAdded,
  forgetFriend,
  personaOfDevice,
  refreshStaleness,
  applyStatusMessage,
  approvePending,
  rejectPending,
  decodeRecord,
} from './table.js';
export type {
  PersonaTable,
  PersonaEntry,
  PersonaState,
  TableDevice,
  FriendRecord,
  PendingUpdate,
  PendingReason,
  EquivocationEvidence,
  RevokedSighting,
  AlarmCode,
  Action,
  Outcome,
  ApplyResult,
  StatusMessageInput,
  KeyInput,
  UpdateMode,
} from './table.js';
export { loadTable, saveTable, parseTable, serializeTable, TABLE_BACKUP_SUFFIX } from './store.js';
export { base64urlEncode, base64urlDecodeStrict } from './base64url.js';
