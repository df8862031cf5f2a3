/**
 * Key paths as a user writes them (`layers[0].w`, `head["odd key"]`): shared by the tree
 * functions and the transforms' error messages. Internal (not re-exported).
 */

/** A key path extended by an index or a key, as a user writes it: `layers[0].w`. */
export const joinPath = (path: string, key: string | number): string =>
  typeof key === 'number'
    ? `${path}[${key}]`
    : /^[A-Za-z_$][\w$]*$/.test(key)
      ? path === ''
        ? key
        : `${path}.${key}`
      : `${path}[${JSON.stringify(key)}]`
