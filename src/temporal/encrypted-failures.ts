/**
 * The failure converter used when payloads are encrypted: a failure's message and stack trace
 * travel in its `encodedAttributes` payload, which the encryption codec encrypts, instead of as
 * plain text in the history (a rejection's comment, an approver's name). Loaded by path
 * (`failureConverterPath`), so the workflow bundle, the worker and the client share it.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
