export * as Stream from './Stream.js'
