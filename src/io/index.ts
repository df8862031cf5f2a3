/**
 * io: io-ts codecs for tensors, parameter trees and parameter schemas, and checkpoints as
 * JSON or safetensors. Decoding never throws on bad data: it returns an fp-ts `Either` with
 * a path-by-path report. Checkpoints are written to a temporary file and renamed, so no
 * reader ever sees half a file.
 */
export {
  type JSONNumber,
  type TensorJSON,
  type TensorConstraints,
  TensorCodec,
  tensorCodec,
  encodeTensor,
  encodeNumber,
  decodeNumber,
} from './tensor.js'
export { type TreeJSON, type PathSegment, TreeCodec, toJSON, fromJSON, parseKeyPath, treeFromPaths } from './tree.js'
export { formatErrors, pathOf, joinKey } from './report.js'
export {
  type PurediffDecodeError,
  type DecodeErrorKind,
  type DecodeIssue,
  type DecodeErrorContext,
  decodeError,
  decodeWith,
  formatError,
  fromIoTsErrors,
  isPurediffDecodeError,
} from './DecodeError.js'
export { type InitName, type Init, uniformInit, normalInit, initializer } from './initializers.js'
export type {
  Schema,
  AnySchema,
  TypeOf,
  ShapeOf,
  SchemaTag,
  ArbitraryOptions,
  TensorOptions,
  NumberOptions,
} from './schema.js'
export * as schema from './schema.js'
export {
  type Metadata,
  type Safetensors,
  MAX_HEADER_BYTES,
  encodeSafetensors,
  decodeSafetensors,
} from './safetensors.js'
export {
  type Format,
  type LoadError,
  type SaveOptions,
  type LoadOptions,
  type LoadSchemaOptions,
  type Loaded,
  type HasCodec,
  type CheckpointJSON,
  save,
  saveSync,
  load,
  loadSync,
  loadWithMetadata,
  loadWithMetadataSync,
  stringifyCheckpoint,
  parseCheckpoint,
  writeFileAtomic,
  writeFileAtomicSync,
} from './checkpoint.js'
