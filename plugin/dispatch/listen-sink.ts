import { isObjectValue, type JsonRpcId, type JsonRpcNotification } from '../protocol/jsonrpc.js'
import type { ListKind } from '../protocol/spec.js'
import type { NotificationSink } from './notification-hub.js'
import { META } from '../protocol/modern/envelope.js'

/** What a `subscriptions/listen` request may ask for; the acknowledgement echoes the subset we honour. */
export interface ListenFilters {
  toolsListChanged?: true
  promptsListChanged?: true
  resourcesListChanged?: true
  resourceSubscriptions?: string[]
}

const LIST_FLAGS: Record<ListKind, 'toolsListChanged' | 'promptsListChanged' | 'resourcesListChanged'> = {
  tools: 'toolsListChanged',
  prompts: 'promptsListChanged',
  resources: 'resourcesListChanged'
}

export function readListenFilters (params: Record<string, unknown> | undefined): ListenFilters {
  const asked = isObjectValue(params?.notifications) ? params.notifications : {}
  const honoured: ListenFilters = {}
  for (const flag of Object.values(LIST_FLAGS)) if (asked[flag] === true) honoured[flag] = true
  const uris = asked.resourceSubscriptions
  if (Array.isArray(uris) && uris.every((uri) => typeof uri === 'string')) honoured.resourceSubscriptions = uris
  return honoured
}

function withSubscriptionId (notification: JsonRpcNotification, id: JsonRpcId): JsonRpcNotification {
  const params = notification.params ?? {}
  const meta = isObjectValue(params._meta) ? params._meta : {}
  return { ...notification, params: { ...params, _meta: { ...meta, [META.subscriptionId]: id } } }
}

/** The first message on a listen stream: which notifications it will carry. */
export function acknowledgement (id: JsonRpcId, filters: ListenFilters): JsonRpcNotification {
  return { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: { [META.subscriptionId]: id }, notifications: filters } }
}

/** A hub sink for one listen stream; every notification names the subscription (the listen request's id). */
export function createListenSink (id: JsonRpcId, filters: ListenFilters, send: (notification: JsonRpcNotification) => void): NotificationSink {
  return {
    wantsListChanged: (kind) => filters[LIST_FLAGS[kind]] === true,
    wantsResourceUpdated: (uri) => filters.resourceSubscriptions?.includes(uri) === true,
    send: (notification) => { send(withSubscriptionId(notification, id)) }
  }
}
