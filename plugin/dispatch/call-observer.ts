import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'

/**
 * Watches the requests the dispatcher answers, for telemetry (a log line per call, spans, metrics). The dispatcher's
 * one seam for it: absent, the dispatcher does nothing but check that it is absent.
 */
export interface CallObserver {
  /** A request is about to run. What it returns is handed back to `end` (a start time, a span: anything). */
  begin: (request: JsonRpcRequest, env: CallEnv) => unknown
  /**
   * Runs the method, for an observer that must have it run inside a context of its own (a span's, so that the
   * handler's own spans are its children). Absent: the dispatcher calls the method itself.
   */
  within?: <T>(watch: unknown, run: () => T) => T
  /** The request ended with `response`; undefined when it was cancelled and no answer is due. */
  end: (request: JsonRpcRequest, env: CallEnv, response: JsonRpcResponse | undefined, watch: unknown) => void
  /** A handler reported progress (inside `within`, where there is one). */
  progress?: (request: JsonRpcRequest, notification: JsonRpcNotification) => void
  /** A notification or a client's answer was taken (they have no outcome to wait for). */
  message?: (message: JsonRpcNotification | JsonRpcResponse, env: CallEnv) => void
}
