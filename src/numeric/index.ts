/** Numeric twins of the transforms: extrapolated central differences with the AD transforms' signatures. */
export * from './numeric.js'
