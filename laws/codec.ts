/**
 * Laws for codecs (io-ts `Type`s, purediff schemas' `decode`, or anything with `decode` returning an `Either` and
 * `encode`): decoding what was encoded gives the value back (decode ∘ encode = identity),
 * and encoding what was decoded from valid input gives that input back (encode ∘ decode =
 * identity on valid input; valid inputs are the codec's own encodings unless an arbitrary
 * of them is given). Equality is exact by default (`deepEqual`: NaN = NaN, −0 ≠ 0, tensors
 * bit for bit), since a codec that loses a bit loses data.
 *
 * Purity: the laws only call `encode` and `decode`.
 */
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { deepEqual } from './eq.js'
import type { LawSuite } from './violation.js'
import { violate } from './violation.js'

/** A codec, structurally (an io-ts `Type<A, O>` is one). @category model @since 0.1.0 */
export interface CodecLike<A, O> {
  readonly decode: (o: O) => Either<unknown, A>
  readonly encode: (a: A) => O
}

/** Options of `codecLaws`. @category model @since 0.1.0 */
export interface CodecLawOptions<A, O> {
  /** equality of decoded values (default `deepEqual`) */
  readonly eq?: (x: A, y: A) => boolean
  /** equality of encoded values (default `deepEqual`) */
  readonly eqEncoded?: (x: O, y: O) => boolean
  /** valid encoded inputs (default: encodings of `arb`) */
  readonly valid?: fc.Arbitrary<O>
}

/** A short description of a decode failure (io-ts errors, an Error, or anything else). */
const describeLeft = (l: unknown): string => {
  // purediff's own decoders: a PurediffDecodeError with readable lines
  const lines =
    (l as { _tag?: unknown; errors?: unknown } | null)?._tag === 'PurediffDecodeError'
      ? (l as { errors: ReadonlyArray<string> }).errors
      : undefined
  if (lines !== undefined) return lines.slice(0, 3).join('; ')
  if (Array.isArray(l)) {
    return l
      .slice(0, 3)
      .map((e: unknown) => {
        const ctx = (e as { context?: ReadonlyArray<{ key: string }> }).context
        const msg = (e as { message?: string }).message
        return `${
          ctx !== undefined
            ? ctx
                .map((c) => c.key)
                .filter((k) => k !== '')
                .join('.') || '<root>'
            : ''
        }${msg !== undefined ? `: ${msg}` : ''}`
      })
      .join('; ')
  }
  if (l instanceof Error) return l.message
  return fc.stringify(l)
}

/**
 * decode ∘ encode = identity and encode ∘ decode = identity on valid input.
 * @example
 * assertSuite(codecLaws(tensorCodec<Tensor>(), arbTensor())) // tensorCodec is a factory: call it
 * @category laws
 * @since 0.1.0
 */
export const codecLaws = <A, O>(
  codec: CodecLike<A, O>,
  arb: fc.Arbitrary<A>,
  o: CodecLawOptions<A, O> = {},
): LawSuite => {
  const eq = o.eq ?? deepEqual
  const eqO = o.eqEncoded ?? deepEqual
  const valid = o.valid ?? arb.map((a) => codec.encode(a))
  return Object.freeze({
    decodeEncode: fc.property(arb, (a) => {
      const o1 = codec.encode(a)
      const r = codec.decode(o1)
      if (E.isLeft(r))
        violate({
          law: 'decodeEncode',
          message: 'decode rejected what encode produced',
          where: 'value',
          details: [`decode error: ${describeLeft(r.left)}`, `encoded: ${fc.stringify(o1)}`],
        })
      else if (!eq(r.right, a))
        violate({
          law: 'decodeEncode',
          message: 'decode(encode(a)) ≠ a',
          where: 'value',
          expected: fc.stringify(a),
          actual: fc.stringify(r.right),
        })
    }),
    encodeDecode: fc.property(valid, (enc) => {
      const r = codec.decode(enc)
      if (E.isLeft(r))
        violate({
          law: 'encodeDecode',
          message: 'decode rejected a valid input',
          where: 'value',
          details: [`decode error: ${describeLeft(r.left)}`, `input: ${fc.stringify(enc)}`],
        })
      else {
        const back = codec.encode(r.right)
        if (!eqO(back, enc))
          violate({
            law: 'encodeDecode',
            message: 'encode(decode(o)) ≠ o',
            where: 'value',
            expected: fc.stringify(enc),
            actual: fc.stringify(back),
          })
      }
    }),
  })
}
