/** `mirror render apigw`: the REST API -> SQS definition, as OpenAPI or CloudFormation, written atomically or printed. */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import type { MirrorConfig, RuleIssue } from '../config/types.js';
import { apigwWarnings, renderCloudFormation } from '../render/apigw/cloudformation.js';
import { renderOpenApi, roleName } from '../render/apigw/openapi.js';
import { loadTemplates } from '../render/templates.js';
import { writeFileAtomic } from '../fs/atomicWrite.js';

const apigwFormats = ['cloudformation', 'openapi'] as const;
type ApigwFormat = (typeof apigwFormats)[number];

export interface RenderApigwOptions {
  config?: string;
  format?: string;
  out?: string;
  stdout?: boolean;
}

interface RenderApigwFile {
  name: string;
  /** Absent with --stdout. */
  path?: string;
  contents: string;
}

export interface RenderApigwResult {
  exitCode: ExitCode;
  format: ApigwFormat;
  files: RenderApigwFile[];
  /** Config rule warnings, then render warnings. */
  warnings: RuleIssue[];
  /** What to do with the files, one step a line. */
  nextSteps: string[];
}

const defaultApigwDir = 'mirror-apigw';
const mappingTemplateName = 'sendMessage.vtl';

export async function runRenderApigw(options: RenderApigwOptions): Promise<RenderApigwResult> {
  const format = parseFormat(options.format);
  const { config, warnings } = await loadConfig(options.config);
  const templates = await loadTemplates('apigw');
  const mappingTemplate = templates.files[mappingTemplateName];
  if (mappingTemplate === undefined) throw new Error(`templates/apigw/${mappingTemplateName}.hbs is missing from this install`);

  const rendered =
    format === 'openapi'
      ? { name: 'openapi.json', value: renderOpenApi(config, mappingTemplate), warnings: apigwWarnings(config) }
      : (() => {
          const cfn = renderCloudFormation(config, mappingTemplate);
          return { name: 'cloudformation.json', value: cfn.template, warnings: cfn.warnings };
        })();
  const contents = `${JSON.stringify(rendered.value, null, 2)}\n`;
  const files: RenderApigwFile[] = [];
  if (options.stdout) {
    files.push({ name: rendered.name, contents });
  } else {
    const outDir = resolve(options.out ?? defaultApigwDir);
    await mkdir(outDir, { recursive: true });
    const path = join(outDir, rendered.name);
    await writeFileAtomic(path, contents);
    files.push({ name: rendered.name, path, contents });
  }
  return { exitCode: ExitCode.ok, format, files, warnings: [...warnings, ...rendered.warnings], nextSteps: nextSteps(config, format, files[0]!) };
}

function parseFormat(value: string | undefined): ApigwFormat {
  if (value === undefined) return 'cloudformation';
  if ((apigwFormats as readonly string[]).includes(value)) return value as ApigwFormat;
  throw new UsageError(`--format ${JSON.stringify(value)}: expected one of ${apigwFormats.join(', ')}`);
}

function nextSteps(config: MirrorConfig, format: ApigwFormat, file: RenderApigwFile): string[] {
  const where = file.path ?? file.name;
  const steps =
    format === 'cloudformation'
      ? [
          `aws cloudformation deploy --template-file ${where} --stack-name mirror-${config.name.replace(/_/g, '-')} --region ${config.apiGateway.region} --capabilities CAPABILITY_NAMED_IAM`,
          'put the RestApiId output into apiGateway.restApiId (and, with sqs.createQueue, QueueUrl into sqs.queueUrl)',
        ]
      : [
          `aws apigateway import-rest-api --parameters endpointConfigurationTypes=REGIONAL --body fileb://${where}`,
          `the integration uses the role ${roleName(config)}: create it first (trusted by apigateway.amazonaws.com, sqs:SendMessage on ${config.sqs.queue.name} only), or use --format cloudformation`,
          `aws apigateway create-deployment --rest-api-id <id> --stage-name ${config.apiGateway.stage}`,
        ];
  if (config.apiGateway.apiKeyFile) {
    steps.push(
      `aws apigateway get-api-key --include-value --api-key <ApiKeyId output>, then write the line proxy_set_header x-api-key "<value>"; to ${config.apiGateway.apiKeyFile}, owned by root, mode 0600 (install -m 0600 -o root /dev/null ${config.apiGateway.apiKeyFile} first)`,
    );
  }
  steps.push('then: mirror validate, and mirror probe once the stack is up');
  return steps;
}

export function formatRenderApigwText(result: RenderApigwResult): string {
  if (result.files.every((f) => f.path === undefined)) return result.files.map((f) => f.contents.replace(/\n$/, '')).join('\n');
  const lines = [`Rendered the API Gateway REST API -> SQS definition (${result.format}):`, ''];
  for (const file of result.files) lines.push(`  wrote ${file.path}`);
  lines.push('', 'Next:');
  result.nextSteps.forEach((step, i) => lines.push(`  ${i + 1}. ${step}`));
  for (const w of result.warnings) lines.push(`warning: ${w.path}: ${w.message}`);
  return lines.join('\n');
}
