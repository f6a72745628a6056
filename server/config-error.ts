/** A mistake in the command line or environment: printed as is, exit code 1. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}
