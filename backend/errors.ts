/**
 * Raised when a backend that was asked for by name cannot be used here. The message says why and
 * what to install; `useBackend("auto")` catches it and falls back to the next backend.
 */
export class BackendUnavailableError extends Error {
  /** The backend that could not be used. */
  readonly backend: string;
  /**
   * Creates the error.
   *
   * @param backend the backend's name
   * @param message why it cannot be used and what to do about it
   */
  constructor(backend: string, message: string) {
    super(message);
    this.name = "BackendUnavailableError";
    this.backend = backend;
  }
}
