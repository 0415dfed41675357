/** The OpenAPI document `mirror render apigw` writes for a config, as the stand-in executes it. */
import type { MirrorConfig } from '../config/types.js';
import type { OpenApiDocument } from '../gateway/openapiDocument.js';
import { renderOpenApi } from '../render/apigw/openapi.js';
import { loadTemplates } from '../render/templates.js';

export async function openApiFor(config: MirrorConfig): Promise<OpenApiDocument> {
  const templates = await loadTemplates('apigw');
  return renderOpenApi(config, templates.files['sendMessage.vtl']!);
}
