/**
 * Wraps a pure check of one header value so that a repeat of the value it saw last gets the same verdict without
 * running the check again: clients send the same Host, Accept and Content-Type on every request. Only for
 * values that are not secret (the comparison is an ordinary `===`).
 */
export function rememberLast<T> (check: (value: string | undefined) => T): (value: string | undefined) => T {
  let lastValue: string | undefined
  let lastVerdict = check(undefined)
  return (value) => {
    if (value !== lastValue) {
      lastVerdict = check(value)
      lastValue = value
    }
    return lastVerdict
  }
}
