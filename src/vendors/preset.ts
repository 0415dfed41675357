/** What the core needs to know about a vendor; nothing else in the core names one. */
export interface VendorPreset {
  id: string;
  displayName: string;
  /** One line for `mirror init` and `--help`. */
  summary: string;
  /** Where such callbacks usually arrive on the existing server. */
  defaultCallbackPath: string;
  defaultResourcePath: string;
  /**
   * The largest callback body the vendor can send, in bytes: `callback.bodyBufferSize`
   * must hold it, or nginx logs such bodies empty and verify cannot check them.
   */
  maxCallbackBytes: number;
  /** The Content-Type the vendor sends. */
  contentType: string;
  /**
   * Body fields that together identify one callback, for `--match field:…` when
   * the request-id attribute is absent. The reason is documented per preset.
   */
  identifyingFields: readonly string[];
  identifyingFieldsReason: string;
  /** Body fields that hold personal data: masked in every report. */
  personalFields: readonly string[];
  /**
   * A draft-4 JSON schema of one callback, the API Gateway model used only when
   * `apiGateway.requestValidation: vendor-schema` asks for it.
   */
  requestModel: Record<string, unknown>;
  /** A realistic callback body for demos, probes and tests; `seq` makes it unique. */
  sampleCallback(seq: number): Record<string, string>;
}
