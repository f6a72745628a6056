/** Suggests values for one prompt argument or resource template variable, given what the user typed so far. */
export type Completer = (
  value: string,
  context: { arguments: Record<string, string> }
) => readonly string[] | Promise<readonly string[]>
