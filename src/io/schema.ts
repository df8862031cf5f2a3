/**
 * Parameter schemas: one description of a parameter record, many interpreters (the io-ts
 * idea). From
 *
 *   const mlp = schema.record({
 *     layers: schema.tuple(
 *       schema.record({ w: schema.tensor([784, 128], { init: 'glorotUniform' }), b: schema.tensor([128]) }),
 *       schema.record({ w: schema.tensor([128, 10], { init: 'glorotUniform' }), b: schema.tensor([10]) }),
 *     ),
 *   })
 *
 * come `TypeOf<typeof mlp>` (its TypeScript type), `mlp.codec` (an io-ts codec that checks
 * every shape and dtype and, unless `allowNaN: true`, that no NaN is present, naming the key
 * path of each failure; records must have exactly the schema's keys), `mlp.init(key)` (fresh
 * parameters from a PRNG key), `mlp.arbitrary()` (a fast-check arbitrary of parameters) and
 * `mlp.shapeOf` (the tree of shapes).
 *
 * Keys: `init` splits its key once per child, in the order `flatten` visits them (record
 * keys sorted, array elements by index), so a leaf's key depends only on its key path and
 * the schema's structure. Tensor leaves default to `init: 'zeros'`, float64, `allowNaN:
 * false`, `allowInfinity: true`. A codec decodes JSON (`TreeJSON`) and in-memory trees
 * alike, so a tree loaded from safetensors (numbers come back as rank-0 tensors) decodes too.
 *
 * Purity: every interpreter is a pure function; decoded and initialized records are frozen.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import * as t from 'io-ts'
import { PurediffError, fmtShape } from '../errors.js'
import { ConcreteTensor, Tensor, checkShape, fromData, scalar, sizeOf } from '../tensor/Tensor.js'
import type { DType, Shape } from '../tensor/Tensor.js'
import { split } from '../random/index.js'
import type { Key } from '../random/index.js'
import { initializer } from './initializers.js'
import type { Init } from './initializers.js'
import { decodeWith } from './DecodeError.js'
import type { PurediffDecodeError } from './DecodeError.js'
import { child, describe, failAt } from './report.js'
import { decodeNumber, encodeNumber, isTensorJSON, tensorCodec } from './tensor.js'
import type { TreeJSON } from './tree.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** @category model @since 0.1.0 */
export type SchemaTag = 'tensor' | 'number' | 'record' | 'array' | 'tuple'

/**
 * The tree of shapes of a parameter type: a shape at every leaf (`[]` for a number).
 * @category model
 * @since 0.1.0
 */
export type ShapeOf<A> = A extends Tensor | number ? Shape : { readonly [K in keyof A]: ShapeOf<A[K]> }

/**
 * Options of `arbitrary`: values are drawn from [min, max] (default [-1, 1]); with
 * `specials: true` they also include ±0 and, where the schema allows them, NaN and ±Infinity.
 * @category model
 * @since 0.1.0
 */
export interface ArbitraryOptions {
  readonly min?: number
  readonly max?: number
  readonly specials?: boolean
}

/**
 * What every schema has, whatever it describes (the part that is covariant in the type,
 * so it can constrain children of any type).
 * @category model
 * @since 0.1.0
 */
export interface AnySchema {
  readonly _tag: SchemaTag
  readonly init: (key: Key) => unknown
  readonly leafCount: number
}

/**
 * A parameter schema for values of type `A`.
 * @category model
 * @since 0.1.0
 */
export interface Schema<A> extends AnySchema {
  /** io-ts codec: JSON or in-memory trees ↔ `A`, every failure naming its key path. */
  readonly codec: t.Type<A, TreeJSON, unknown>
  /** `codec.decode` with the boundary's one error shape, a path-by-path `PurediffDecodeError`. */
  readonly decode: (u: unknown) => E.Either<PurediffDecodeError, A>
  /** Fresh parameters from a PRNG key. */
  readonly init: (key: Key) => A
  /** A fast-check arbitrary of parameters. */
  readonly arbitrary: (options?: ArbitraryOptions) => fc.Arbitrary<A>
  /** The tree of shapes. */
  readonly shapeOf: ShapeOf<A>
}

/**
 * The TypeScript type a schema describes.
 * @example
 * const mlp = schema.record({ layers: schema.tuple(schema.record({ w: schema.tensor([2, 3]), b: schema.tensor([3]) })) })
 * type Params = TypeOf<typeof mlp> // { readonly layers: readonly [{ readonly b: Tensor; readonly w: Tensor }] }
 * const p: Params = mlp.init(random.key(0))
 * p.layers[0].w.shape // [2, 3]
 * @category model
 * @since 0.1.0
 */
export type TypeOf<S> = S extends Schema<infer A> ? A : never

/** Options of `schema.tensor`. @category model @since 0.1.0 */
export interface TensorOptions {
  /** Default `'float64'`. */
  readonly dtype?: DType
  /** Default `'zeros'`. */
  readonly init?: Init
  /** May the values be NaN? Default `false`: NaN is a `Left` naming the key path. */
  readonly allowNaN?: boolean
  /** May the values be ±Infinity? Default `true`. */
  readonly allowInfinity?: boolean
}

/** Options of `schema.number`. @category model @since 0.1.0 */
export interface NumberOptions {
  /** Default `'zeros'` (a scalar initializer: a name or a function of key, shape `[]` and dtype). */
  readonly init?: Init
  readonly allowNaN?: boolean
  readonly allowInfinity?: boolean
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const isPlainObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && !ArrayBuffer.isView(u) && !(u instanceof Tensor)

const freezeRecord = <A>(entries: ReadonlyArray<readonly [string, unknown]>): A =>
  Object.freeze(Object.fromEntries(entries)) as A

/** Wrap a validate function so exotic input (throwing getters) becomes a failure, not a crash. */
const safe =
  <A>(validate: t.Validate<unknown, A>): t.Validate<unknown, A> =>
  (u, c) => {
    try {
      return validate(u, c)
    } catch (e) {
      return failAt(u, c, `could not read the value: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

/** Name tensors (in memory or as JSON) as tensors with their shape in messages. */
const describeLeaf = (u: unknown): string => {
  if (u instanceof Tensor) return `a tensor of shape ${fmtShape(u.shape)}`
  if (isTensorJSON(u)) {
    const sh = u['shape']
    return Array.isArray(sh) && sh.every((d) => typeof d === 'number')
      ? `a tensor of shape ${fmtShape(sh as number[])}`
      : 'a tensor'
  }
  return describe(u)
}

const NAN_REASON = 'the schema sets allowNaN: false'

/** A rank-0 tensor of either dtype (what `schema.number` accepts besides a number). */
const rank0 = tensorCodec({ shape: [] })

const scalarArbitrary = (
  dtype: DType,
  allowNaN: boolean,
  allowInfinity: boolean,
  o: ArbitraryOptions,
): fc.Arbitrary<number> => {
  const min = o.min ?? -1
  const max = o.max ?? 1
  const base =
    dtype === 'float32'
      ? fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true })
      : fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
  if (o.specials !== true) return base
  const specials = [0, -0, ...(allowNaN ? [NaN] : []), ...(allowInfinity ? [Infinity, -Infinity] : [])]
  return fc.oneof({ arbitrary: base, weight: 4 }, { arbitrary: fc.constantFrom(...specials), weight: 1 })
}

const make = <A>(s: Omit<Schema<A>, 'decode'>): Schema<A> => Object.freeze({ ...s, decode: decodeWith(s.codec) })

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A tensor of a fixed shape.
 * @example
 * schema.tensor([784, 128], { init: 'glorotUniform', dtype: 'float32' })
 * schema.tensor([784, 128], { init: 'glorotUniform', dtype: 'float32' }).init(key(0)).dtype // 'float32'
 * @category constructors
 * @since 0.1.0
 */
export const tensor = (shape: Shape, options: TensorOptions = {}): Schema<Tensor> => {
  const sh = Object.freeze(checkShape(shape, 'schema.tensor'))
  const dtype = options.dtype ?? 'float64'
  const allowNaN = options.allowNaN ?? false
  const allowInfinity = options.allowInfinity ?? true
  const init = initializer(options.init ?? 'zeros')
  const base = tensorCodec<Tensor>({ shape: sh, dtype, allowNaN, allowInfinity, reason: NAN_REASON })
  const codec: t.Type<Tensor, TreeJSON, unknown> = new t.Type<Tensor, TreeJSON, unknown>(
    base.name,
    base.is,
    safe((u, c) => {
      // A rank-0 tensor may be written as a bare number.
      if (sh.length === 0 && (typeof u === 'number' || typeof u === 'string')) {
        const v = decodeNumber(u)
        if (v === undefined) return failAt(u, c, `expected a number or a tensor, got ${describe(u)}`)
        return base.validate(scalar(v, dtype), c)
      }
      return base.validate(u, c)
    }),
    base.encode,
  )
  const n = sizeOf(sh)
  return make<Tensor>({
    _tag: 'tensor',
    codec,
    leafCount: 1,
    init: (key) => {
      const x = init(key, sh, dtype)
      if (
        !(x instanceof ConcreteTensor) ||
        x.dtype !== dtype ||
        x.shape.length !== sh.length ||
        x.shape.some((d, i) => d !== sh[i])
      ) {
        throw new PurediffError(
          'ShapeError',
          `initializer returned ${x instanceof Tensor ? `${fmtShape(x.shape)} ${x.dtype}` : describe(x)}, expected ${fmtShape(sh)} ${dtype}`,
          {
            op: 'schema.init',
          },
        )
      }
      return x
    },
    arbitrary: (o = {}) =>
      fc
        .array(scalarArbitrary(dtype, allowNaN, allowInfinity, o), { minLength: n, maxLength: n })
        .map((xs): Tensor => fromData(xs, sh, dtype)),
    shapeOf: sh,
  })
}

/**
 * A number leaf (a scalar hyperparameter, say). Also decodes from a rank-0 tensor of either
 * dtype, in memory or as JSON (`{ dtype, shape: [], data: [x] }`), which is how safetensors
 * stores numbers; it always encodes as a number.
 * @example
 * schema.number({ init: nn.constant(0.01) }).init(random.key(0)) // 0.01
 * // a rank-0 tensor, as safetensors stores numbers, decodes to a number
 * pipe(schema.number().decode({ dtype: 'float64', shape: [], data: [2.5] }), E.getOrElse(() => NaN)) // 2.5
 * @category constructors
 * @since 0.1.0
 */
export const number = (options: NumberOptions = {}): Schema<number> => {
  const allowNaN = options.allowNaN ?? false
  const allowInfinity = options.allowInfinity ?? true
  const init = initializer(options.init ?? 'zeros')
  const codec: t.Type<number, TreeJSON, unknown> = new t.Type<number, TreeJSON, unknown>(
    'number',
    (u): u is number =>
      typeof u === 'number' &&
      (allowNaN || !Number.isNaN(u)) &&
      (allowInfinity || !(u === Infinity || u === -Infinity)),
    safe((u, c) => {
      let v: number | undefined
      if (u instanceof Tensor) v = u.shape.length === 0 ? u.item() : undefined
      else if (isTensorJSON(u)) {
        // The JSON form of a rank-0 tensor, as a tree loaded from safetensors encodes: the same
        // value as the in-memory rank-0 tensor above, so it is accepted the same way.
        const sh = u['shape']
        if (Array.isArray(sh) && sh.length === 0) {
          const r = rank0.validate(u, c)
          if (E.isLeft(r)) return r
          v = r.right.item()
        }
      } else v = decodeNumber(u)
      if (v === undefined) return failAt(u, c, `expected a number, got ${describeLeaf(u)}`)
      if (!allowNaN && Number.isNaN(v)) return failAt(u, c, `NaN is not allowed here (${NAN_REASON})`)
      if (!allowInfinity && (v === Infinity || v === -Infinity))
        return failAt(u, c, `${v} is not allowed here (the schema sets allowInfinity: false)`)
      return E.right(v)
    }),
    encodeNumber,
  )
  return make<number>({
    _tag: 'number',
    codec,
    leafCount: 1,
    init: (key) => init(key, [], 'float64').item(),
    arbitrary: (o = {}) => scalarArbitrary('float64', allowNaN, allowInfinity, o),
    shapeOf: Object.freeze([]) as unknown as ShapeOf<number>,
  })
}

/** Internal view of a child schema (its codec at `unknown`, which only this module uses). */
const view = (s: AnySchema): Schema<unknown> => s as unknown as Schema<unknown>

const keysOfRecord = (props: Readonly<Record<string, AnySchema>>): string[] => Object.keys(props).sort()

/**
 * A record with exactly these keys: a missing key or an extra key is a `Left` naming it.
 * @example
 * schema.record({ w: schema.tensor([2, 3]), b: schema.tensor([3]) })
 * // tensor leaves default to zeros
 * schema.record({ w: schema.tensor([2, 3]), b: schema.tensor([3]) }).init(key(0)).b // [0, 0, 0]
 * // a missing key is a Left
 * isLeft(schema.record({ w: schema.tensor([2, 3]), b: schema.tensor([3]) }).decode({})) // true
 * @category constructors
 * @since 0.1.0
 */
export const record = <P extends Readonly<Record<string, AnySchema>>>(
  props: P,
): Schema<{ readonly [K in keyof P]: TypeOf<P[K]> }> => {
  type A = { readonly [K in keyof P]: TypeOf<P[K]> }
  const keys = keysOfRecord(props)
  for (const k of keys) {
    if (typeof props[k] !== 'object' || props[k] === null || typeof (props[k] as AnySchema)._tag !== 'string') {
      throw new PurediffError('ValueError', `schema.record: the value of ${JSON.stringify(k)} is not a schema`, {
        op: 'schema.record',
        path: k,
      })
    }
  }
  const kids = Object.fromEntries(keys.map((k) => [k, view(props[k] as AnySchema)])) as Record<string, Schema<unknown>>
  const name = `{ ${keys.map((k) => `${k}: ${(kids[k] as Schema<unknown>).codec.name}`).join(', ')} }`
  const codec: t.Type<A, TreeJSON, unknown> = new t.Type<A, TreeJSON, unknown>(
    name,
    (u): u is A =>
      isPlainObject(u) &&
      Object.keys(u).length === keys.length &&
      keys.every((k) => Object.prototype.hasOwnProperty.call(u, k) && (kids[k] as Schema<unknown>).codec.is(u[k])),
    safe((u, c) => {
      if (!isPlainObject(u) || isTensorJSON(u))
        return failAt(u, c, `expected a record with keys ${keys.join(', ')}, got ${describeLeaf(u)}`)
      const errors: t.ValidationError[] = []
      const out: Array<[string, unknown]> = []
      for (const k of keys) {
        if (!Object.prototype.hasOwnProperty.call(u, k)) {
          const r = failAt<never>(undefined, child(c, k, codec, undefined), `missing key ${JSON.stringify(k)}`)
          if (E.isLeft(r)) errors.push(...r.left)
          continue
        }
        const r = (kids[k] as Schema<unknown>).codec.validate(u[k], child(c, k, codec, u[k]))
        if (E.isLeft(r)) errors.push(...r.left)
        else out.push([k, r.right])
      }
      for (const k of Object.keys(u)) {
        if (!Object.prototype.hasOwnProperty.call(kids, k)) {
          const r = failAt<never>(
            u[k],
            child(c, k, codec, u[k]),
            `unexpected key ${JSON.stringify(k)} (the schema has keys ${keys.join(', ')})`,
          )
          if (E.isLeft(r)) errors.push(...r.left)
        }
      }
      return errors.length > 0 ? E.left(errors) : E.right(freezeRecord<A>(out))
    }),
    (a) =>
      freezeRecord<TreeJSON>(
        keys.map((k) => [k, (kids[k] as Schema<unknown>).codec.encode((a as Readonly<Record<string, unknown>>)[k])]),
      ),
  )
  return make<A>({
    _tag: 'record',
    codec,
    leafCount: keys.reduce((n, k) => n + (kids[k] as Schema<unknown>).leafCount, 0),
    init: (key) => {
      const ks = keys.length === 0 ? [] : split(key, keys.length)
      return freezeRecord<A>(keys.map((k, i) => [k, (kids[k] as Schema<unknown>).init(ks[i] as Key)]))
    },
    arbitrary: (o) =>
      fc
        .tuple(...keys.map((k) => (kids[k] as Schema<unknown>).arbitrary(o)))
        .map((vs) => freezeRecord<A>(keys.map((k, i) => [k, vs[i]]))),
    shapeOf: freezeRecord<ShapeOf<A>>(keys.map((k) => [k, (kids[k] as Schema<unknown>).shapeOf])),
  })
}

const sequence = <A>(tag: 'array' | 'tuple', items: ReadonlyArray<Schema<unknown>>, name: string): Schema<A> => {
  const n = items.length
  const codec: t.Type<A, TreeJSON, unknown> = new t.Type<A, TreeJSON, unknown>(
    name,
    (u): u is A => Array.isArray(u) && u.length === n && items.every((s, i) => s.codec.is(u[i])),
    safe((u, c) => {
      if (!Array.isArray(u)) return failAt(u, c, `expected an array of length ${n}, got ${describeLeaf(u)}`)
      const errors: t.ValidationError[] = []
      if (u.length !== n) {
        const r = failAt<never>(u, c, `expected an array of length ${n}, got length ${u.length}`)
        if (E.isLeft(r)) errors.push(...r.left)
      }
      const out: unknown[] = []
      items.forEach((s, i) => {
        if (i >= u.length) return
        const r = s.codec.validate(u[i], child(c, String(i), codec, u[i]))
        if (E.isLeft(r)) errors.push(...r.left)
        else out.push(r.right)
      })
      return errors.length > 0 ? E.left(errors) : E.right(Object.freeze(out) as A)
    }),
    (a) => Object.freeze(items.map((s, i) => s.codec.encode((a as ReadonlyArray<unknown>)[i]))),
  )
  return make<A>({
    _tag: tag,
    codec,
    leafCount: items.reduce((m, s) => m + s.leafCount, 0),
    init: (key) => {
      const ks = n === 0 ? [] : split(key, n)
      return Object.freeze(items.map((s, i) => s.init(ks[i] as Key))) as A
    },
    arbitrary: (o) => fc.tuple(...items.map((s) => s.arbitrary(o))).map((vs) => Object.freeze(vs) as A),
    shapeOf: Object.freeze(items.map((s) => s.shapeOf)) as ShapeOf<A>,
  })
}

/**
 * An array of `length` elements of one schema (e.g. identical layers).
 * @example
 * schema.array(schema.record({ w: schema.tensor([64, 64]) }), 4)
 * schema.array(schema.record({ w: schema.tensor([64, 64]) }), 4).init(key(0)).length // 4
 * @category constructors
 * @since 0.1.0
 */
export const array = <S extends AnySchema>(item: S, length: number): Schema<ReadonlyArray<TypeOf<S>>> => {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new PurediffError('ValueError', `length must be a non-negative integer, got ${String(length)}`, {
      op: 'schema.array',
    })
  }
  const s = view(item)
  return sequence('array', new Array<Schema<unknown>>(length).fill(s), `Array<${s.codec.name}, ${length}>`)
}

/**
 * A fixed-length array of different schemas (e.g. layers of different widths).
 * @example
 * schema.tuple(schema.record({ w: schema.tensor([784, 128]) }), schema.record({ w: schema.tensor([128, 10]) }))
 * schema.tuple(schema.record({ w: schema.tensor([4, 3]) }), schema.record({ w: schema.tensor([3, 2]) })).init(key(0))[1].w.shape // [3, 2]
 * @category constructors
 * @since 0.1.0
 */
export const tuple = <S extends ReadonlyArray<AnySchema>>(
  ...items: S
): Schema<{ readonly [K in keyof S]: TypeOf<S[K]> }> => {
  const kids = items.map(view)
  return sequence('tuple', kids, `[${kids.map((s) => s.codec.name).join(', ')}]`)
}
