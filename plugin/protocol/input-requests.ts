/** Requests a handler needs the client to answer, by key: sampling, elicitation, roots. */
export type InputRequests = Record<string, { method: string, params: Record<string, unknown> }>

/** The client's answers, by the key of the request each answers. */
export type InputResponses = Record<string, Record<string, unknown>>
