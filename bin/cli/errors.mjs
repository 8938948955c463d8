// @ts-check

/** An error meant for the user: its message is printed as is, without a stack. */
export class CliError extends Error {
  /**
   * @param {string} message
   * @param {number} [exitCode]
   */
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** An error answer from the API, carrying the envelope's code and message. */
export class ApiError extends CliError {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message, 1);
    this.status = status;
    this.code = code;
  }
}
