/** Where the stdio transport writes its messages: the part of a Writable it uses. */
export interface MessageOutput {
  readonly writable: boolean
  write: (text: string, callback?: (error?: Error | null) => void) => boolean
}

let protocolOutput: MessageOutput | undefined

/**
 * Reserves stdout for protocol messages: from now on, whatever else in the process writes to `process.stdout`
 * (a tool's `process.stdout.write`, `console.log`, `console.table`, a stream piped into stdout) goes to stderr,
 * and only the returned output reaches the real stdout. Idempotent. Writes to file descriptor 1 itself
 * (`fs.writeSync(1)`, a child process with inherited stdio) are beyond its reach.
 */
export function protectStdout (): MessageOutput {
  if (protocolOutput !== undefined) return protocolOutput
  const stdout = process.stdout
  const write = stdout.write.bind(stdout) as (text: string, callback?: (error?: Error | null) => void) => boolean
  // console.* and pipes call `stdout.write` when they write: replacing the method on the stream covers them all.
  stdout.write = process.stderr.write.bind(process.stderr) as typeof stdout.write
  protocolOutput = {
    get writable () { return stdout.writable },
    write
  }
  return protocolOutput
}
