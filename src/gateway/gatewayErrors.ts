/**
 * A mapping template could not be rendered: bad JSONPath, a body that is not JSON
 * where the template reads it as JSON, a `$util` function given null.
 *
 * API Gateway answers such a request with 500 `{"message": "Internal server error"}`
 * and logs `Execution failed due to configuration error: Unable to transform request`
 * (the error is the API's configuration, not the caller's request). The stand-in's
 * catch-all already answers 500, so callers need not tell this error apart; it
 * exists so tests and the execution log can name the cause.
 */
export class MappingTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingTemplateError';
  }
}
