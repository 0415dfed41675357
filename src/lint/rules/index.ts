import type { LintRule } from '../types.js';
import { proxyPassVariableWithoutResolver } from './proxyPassVariableWithoutResolver.js';
import { proxyPassLiteralAwsHost } from './proxyPassLiteralAwsHost.js';
import { httpsProxyPassWithoutSni } from './httpsProxyPassWithoutSni.js';
import { httpsProxyPassWithoutVerify } from './httpsProxyPassWithoutVerify.js';
import { mirrorTargetNotInternal } from './mirrorTargetNotInternal.js';
import { mirrorUriUnmatched } from './mirrorUriUnmatched.js';
import { mirrorLocationNoHost } from './mirrorLocationNoHost.js';
import { mirrorTimeouts } from './mirrorTimeouts.js';
import { executeApiPathWithoutStage } from './executeApiPathWithoutStage.js';
import { mirrorBodyDropped } from './mirrorBodyDropped.js';
import { mirrorWithoutRequestId } from './mirrorWithoutRequestId.js';
import { publicResolver } from './publicResolver.js';

export const rules: readonly LintRule[] = [
  proxyPassVariableWithoutResolver,
  proxyPassLiteralAwsHost,
  httpsProxyPassWithoutSni,
  httpsProxyPassWithoutVerify,
  mirrorTargetNotInternal,
  mirrorUriUnmatched,
  mirrorLocationNoHost,
  mirrorTimeouts,
  executeApiPathWithoutStage,
  mirrorBodyDropped,
  mirrorWithoutRequestId,
  publicResolver,
];
