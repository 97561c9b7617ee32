import { type TEnum, type TInteger, type TObject, type TSchema, Type } from 'typebox';

/**
 * `T | null`. Null comes first: with Ajv's type coercion on, a `null` tried against an integer
 * first would be coerced to 0 and accepted as such.
 */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);

/** Marks a schema with a description (shown in the OpenAPI document). */
export const said = <T extends TSchema>(t: T, description: string): T => ({ ...t, description });

/** One of a word list (`as const` array, or numbers such as the frequencies) as an enum. */
export const OneOf = <const W extends readonly (string | number)[]>(words: W): TEnum<[...W]> =>
  Type.Enum([...words]) as TEnum<[...W]>;

/**
 * A count per word, every word present: `{ [word]: integer }` with all keys required (the shape
 * the services return for counts per category, per reason …).
 */
export function CountsOf<const W extends readonly string[]>(
  words: W,
  options?: { description?: string },
): TObject<{ [K in W[number]]: TInteger }> {
  const properties = Object.fromEntries(words.map((w) => [w, Type.Integer()]));
  return Type.Object(properties, options) as unknown as TObject<{ [K in W[number]]: TInteger }>;
}

/** A type written out as plain nested objects, so that `A & B` and `{ ...A, ...B }` compare the same. */
type Plain<T> = T extends object ? { [K in keyof T]: Plain<T[K]> } : T;

/**
 * Compile-time proof that two types are the same (not merely assignable both ways, which would
 * let an optional property be missing on one side): `const _: Equal<A, B> = true`.
 */
export type Equal<A, B> =
  (<T>() => T extends Plain<A> ? 1 : 2) extends <T>() => T extends Plain<B> ? 1 : 2 ? true : false;
