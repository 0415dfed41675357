/**
 * The CloudFormation template that deploys the callback -> SQS REST API. Pure:
 * config and mapping template in, a template object out; `mirror render apigw`
 * serializes it. The REST API's Body is the same OpenAPI document
 * `renderOpenApi` writes, with the execution role and the integration URI as
 * intrinsics, so the stack and the stand-in execute one definition.
 *
 * Resource and property names: docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
 * (aws-resource-apigateway-*, aws-resource-iam-role, aws-resource-sqs-*). The test
 * checks every resource against the published resource spec (@aws-cdk/aws-service-spec).
 */
import { createHash } from 'node:crypto';
import type { MirrorConfig, RuleIssue } from '../../config/types.js';
import { renderOpenApi, roleName } from './openapi.js';

interface CloudFormationResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
  DeletionPolicy?: 'Delete' | 'Retain' | 'Snapshot';
  UpdateReplacePolicy?: 'Delete' | 'Retain' | 'Snapshot';
}

export interface CloudFormationTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters?: Record<string, { Type: string; Description?: string; Default?: string }>;
  Resources: Record<string, CloudFormationResource>;
  Outputs: Record<string, { Description: string; Value: unknown }>;
}

export interface RenderedCloudFormation {
  template: CloudFormationTemplate;
  warnings: RuleIssue[];
}

/** Logical ids, so tests and docs name resources the way the template does. */
export const logicalIds = {
  restApi: 'CallbackApi',
  stage: 'CallbackStage',
  role: 'ApiGatewayToSqsRole',
  queue: 'CallbackQueue',
  deadLetterQueue: 'CallbackDeadLetterQueue',
  queuePolicy: 'CallbackQueuePolicy',
  domainName: 'CallbackDomainName',
  basePathMapping: 'CallbackBasePathMapping',
  apiKey: 'MirrorApiKey',
  usagePlan: 'MirrorUsagePlan',
  usagePlanKey: 'MirrorUsagePlanKey',
} as const;

/**
 * `AWS::ApiGateway::Deployment` is a snapshot: CloudFormation does not redeploy
 * when only the RestApi's Body changes, so a stack update would leave the stage
 * serving the old template. Naming the deployment after a hash of the document
 * makes every change of the document a new deployment that the stage then points at
 * (the same device as aws-cdk's `Deployment.addToLogicalId`).
 */
export function deploymentLogicalId(document: unknown): string {
  return `CallbackDeployment${createHash('sha256').update(JSON.stringify(document)).digest('hex').slice(0, 10)}`;
}

/** 14 days, the SQS maximum: a dead letter must outlive a long weekend. */
const deadLetterRetentionSeconds = 1_209_600;
/** Receives before a message is moved to the dead-letter queue. */
const maxReceiveCount = 5;

export function renderCloudFormation(config: MirrorConfig, mappingTemplate: string): RenderedCloudFormation {
  const { apiGateway, sqs } = config;
  const queue = sqs.queue;
  // API Gateway calls SQS in the region the integration URI names, which is the queue's.
  const queueRegion = queue.region ?? apiGateway.region;
  const ids = logicalIds;

  const queueArn: unknown = sqs.createQueue
    ? { 'Fn::GetAtt': [ids.queue, 'Arn'] }
    : { 'Fn::Sub': `arn:\${AWS::Partition}:sqs:${queueRegion}:${queue.accountId}:${queue.name}` };
  const integrationUri = sqs.createQueue
    ? { 'Fn::Sub': `arn:\${AWS::Partition}:apigateway:${queueRegion}:sqs:path/\${AWS::AccountId}/\${${ids.queue}.QueueName}` }
    : { 'Fn::Sub': `arn:\${AWS::Partition}:apigateway:${queueRegion}:sqs:path/${queue.accountId}/${queue.name}` };
  const document = renderOpenApi(config, mappingTemplate, {
    credentials: { 'Fn::GetAtt': [ids.role, 'Arn'] },
    integrationUri,
  });
  const deployment = deploymentLogicalId(document);

  const resources: Record<string, CloudFormationResource> = {};
  resources[ids.restApi] = {
    Type: 'AWS::ApiGateway::RestApi',
    Properties: {
      Name: `mirror-${config.name}`,
      Description: `${config.vendor} callbacks into SQS queue ${queue.name} (mirror render apigw)`,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      Body: document,
    },
  };
  resources[deployment] = {
    Type: 'AWS::ApiGateway::Deployment',
    Properties: { RestApiId: { Ref: ids.restApi }, Description: 'mirror render apigw' },
  };
  resources[ids.stage] = {
    Type: 'AWS::ApiGateway::Stage',
    // Ref of the deployment: the stage is created (and updated) only once its deployment exists.
    Properties: { RestApiId: { Ref: ids.restApi }, StageName: apiGateway.stage, DeploymentId: { Ref: deployment } },
  };

  const kmsStatement = sqs.kmsKeyArn
    ? [{ Sid: 'EncryptWithTheQueueKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: sqs.kmsKeyArn }]
    : [];
  resources[ids.role] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: roleName(config),
      Description: `API Gateway sends ${config.vendor} callbacks to ${queue.name}; nothing else`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: 'send-callbacks-to-the-queue',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Sid: 'SendToTheCallbackQueue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn }, ...kmsStatement],
          },
        },
      ],
    },
  };

  if (sqs.createQueue) {
    const encryption = sqs.kmsKeyArn ? { KmsMasterKeyId: sqs.kmsKeyArn } : { SqsManagedSseEnabled: true };
    resources[ids.deadLetterQueue] = {
      Type: 'AWS::SQS::Queue',
      // Callbacks are the only copy once the vendor stops retrying: keep them when the stack goes.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { QueueName: `${queue.name}-dlq`, MessageRetentionPeriod: deadLetterRetentionSeconds, ...encryption },
    };
    resources[ids.queue] = {
      Type: 'AWS::SQS::Queue',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        QueueName: queue.name,
        ...encryption,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [ids.deadLetterQueue, 'Arn'] }, maxReceiveCount },
      },
    };
    const bothQueues = [{ 'Fn::GetAtt': [ids.queue, 'Arn'] }, { 'Fn::GetAtt': [ids.deadLetterQueue, 'Arn'] }];
    resources[ids.queuePolicy] = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: ids.queue }, { Ref: ids.deadLetterQueue }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'OwnerAccountOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sqs:*',
              Resource: bothQueues,
              Condition: { StringNotEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } } },
            },
            {
              Sid: 'HttpsOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sqs:*',
              Resource: bothQueues,
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    };
  }

  const outputs: CloudFormationTemplate['Outputs'] = {
    RestApiId: { Description: 'apiGateway.restApiId for mirror.yaml', Value: { Ref: ids.restApi } },
    ExecuteApiUrl: {
      Description: 'the URL nginx mirrors to in the shadow phase',
      Value: { 'Fn::Sub': `https://\${${ids.restApi}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/\${${ids.stage}}${apiGateway.resourcePath}` },
    },
    ExecutionRoleArn: { Description: 'the role API Gateway sends to SQS with', Value: { 'Fn::GetAtt': [ids.role, 'Arn'] } },
  };
  if (sqs.createQueue) {
    outputs.QueueUrl = { Description: 'sqs.queueUrl for mirror.yaml', Value: { Ref: ids.queue } };
    outputs.DeadLetterQueueUrl = { Description: 'where messages go after 5 failed receives', Value: { Ref: ids.deadLetterQueue } };
  }

  if (apiGateway.certificateArn && apiGateway.customDomain) {
    resources[ids.domainName] = {
      Type: 'AWS::ApiGateway::DomainName',
      Properties: {
        DomainName: apiGateway.customDomain,
        RegionalCertificateArn: apiGateway.certificateArn,
        EndpointConfiguration: { Types: ['REGIONAL'] },
        SecurityPolicy: 'TLS_1_2',
      },
    };
    const basePath = apiGateway.basePath;
    // AWS::ApiGateway::BasePathMapping takes one path segment; a multi-level base path
    // (callbacks/v1) needs the API Gateway V2 API mapping, which serves REST APIs on a
    // REGIONAL, TLS 1.2 domain (docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html).
    resources[ids.basePathMapping] = basePath.includes('/')
      ? {
          Type: 'AWS::ApiGatewayV2::ApiMapping',
          Properties: { DomainName: { Ref: ids.domainName }, ApiId: { Ref: ids.restApi }, Stage: { Ref: ids.stage }, ApiMappingKey: basePath },
        }
      : {
          Type: 'AWS::ApiGateway::BasePathMapping',
          Properties: {
            DomainName: { Ref: ids.domainName },
            RestApiId: { Ref: ids.restApi },
            // Ref of the stage, not its name: the mapping must wait for the stage to exist.
            Stage: { Ref: ids.stage },
            ...(basePath ? { BasePath: basePath } : {}),
          },
        };
    outputs.CustomDomainRegionalDomainName = {
      Description: `the target of a CNAME (or alias) record for ${apiGateway.customDomain}`,
      Value: { 'Fn::GetAtt': [ids.domainName, 'RegionalDomainName'] },
    };
    outputs.CustomDomainRegionalHostedZoneId = {
      Description: 'the hosted zone id of a Route 53 alias record',
      Value: { 'Fn::GetAtt': [ids.domainName, 'RegionalHostedZoneId'] },
    };
  }

  if (apiGateway.apiKeyFile) {
    resources[ids.apiKey] = {
      Type: 'AWS::ApiGateway::ApiKey',
      Properties: { Name: `mirror-${config.name}-nginx`, Description: 'sent by the nginx mirror location from apiGateway.apiKeyFile', Enabled: true },
    };
    resources[ids.usagePlan] = {
      Type: 'AWS::ApiGateway::UsagePlan',
      Properties: {
        UsagePlanName: `mirror-${config.name}`,
        Description: 'the API key nginx sends; no quota: a callback over a quota is a lost callback',
        ApiStages: [{ ApiId: { Ref: ids.restApi }, Stage: { Ref: ids.stage } }],
      },
    };
    resources[ids.usagePlanKey] = {
      Type: 'AWS::ApiGateway::UsagePlanKey',
      Properties: { KeyId: { Ref: ids.apiKey }, KeyType: 'API_KEY', UsagePlanId: { Ref: ids.usagePlan } },
    };
    outputs.ApiKeyId = {
      Description: `aws apigateway get-api-key --include-value --api-key <this>; write proxy_set_header x-api-key "<value>"; to ${apiGateway.apiKeyFile} (owner root, mode 0600)`,
      Value: { Ref: ids.apiKey },
    };
  }

  return {
    template: {
      AWSTemplateFormatVersion: '2010-09-09',
      Description: `mirror: ${config.vendor} callbacks -> API Gateway (REST, REGIONAL) -> SQS ${queue.name}. Rendered by mirror render apigw; edit the config, not this file.`,
      Resources: resources,
      Outputs: outputs,
    },
    warnings: apigwWarnings(config),
  };
}

/** What `render apigw` warns about, in either format: choices that can lose or refuse callbacks. */
export function apigwWarnings(config: MirrorConfig): RuleIssue[] {
  const { apiGateway, sqs } = config;
  const warnings: RuleIssue[] = [];
  if (apiGateway.requestValidation === 'vendor-schema') {
    warnings.push({
      severity: 'warning',
      path: 'apiGateway.requestValidation',
      message:
        'vendor-schema: API Gateway answers 400 to a callback the stricter model rejects and the vendor does not retry a 4xx; ' +
        'in the shadow phases nginx still has it, but a callback the stricter model rejects in the direct phase is a lost callback',
    });
  }
  if (sqs.kmsKeyArn && /:alias\//.test(sqs.kmsKeyArn)) {
    warnings.push({
      severity: 'warning',
      path: 'sqs.kmsKeyArn',
      message: 'an alias ARN in an IAM policy Resource matches no key, so SendMessage fails with KMS AccessDenied; expected the key ARN (arn:...:key/...)',
    });
  }
  if (apiGateway.certificateArn && !apiGateway.customDomain) {
    warnings.push({ severity: 'warning', path: 'apiGateway.certificateArn', message: 'set, but apiGateway.customDomain is not: no custom domain is rendered' });
  }
  return warnings;
}
