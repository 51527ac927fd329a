/**
 * The body of an endpoint that takes none: with the global validation pipe, any field sent is
 * rejected as unknown (400 `validation_failed`), as for every other body.
 */
export class EmptyBodyDto {}
