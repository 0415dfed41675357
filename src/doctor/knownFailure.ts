/** What `mirror doctor` knows of one failure: the shape every table of known failures shares. */
type FailureSource = 'nginx' | 'api-gateway' | 'sqs';

export interface KnownFailure {
  id: string;
  source: FailureSource;
  title: string;
  pattern: RegExp;
  cause: string;
  fix: string;
  /** Config key to change, or the rendered directive when no key covers it. */
  change: string;
}
