/** Raised when a saga under test breaks the saga contract; the message says how. */
export class SagaContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SagaContractViolation';
  }
}
