// The environment handed to child processes: ours minus every secret (passphrases, tokens), which children never need.

/** Names of environment variables that carry secrets: they are never passed on to a child process. */
export const SECRET_ENV_PATTERN = /PASSPHRASE|PASSWORD|SECRET|TOKEN/i;

/** A copy of `env` without the variables {@link SECRET_ENV_PATTERN} names, for spawning children (tox-bootstrapd). */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET_ENV_PATTERN.test(name)));
}
