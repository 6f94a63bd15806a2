// Errors every ObjectStore driver throws for the same causes, so callers handle them once.

/** The key (or prefix) could escape the store or is not portable across drivers. */
export class ObjectKeyError extends Error {
  override readonly name = 'ObjectKeyError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Invalid object key ${JSON.stringify(key)}: ${reason}`);
  }
}

/** Thrown only where a method cannot answer null (download). */
export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly key: string) {
    super(`No object ${JSON.stringify(key)}`);
  }
}
