import type { Annotations, BlobResourceContents, TextResourceContents } from '../protocol/spec.js'
import type { HandlerContext } from '../protocol/handler-context.js'
import type { Completer } from '../completions/completer.js'
import type { TemplateVariables } from './uri-template.js'

/** One item of a resource's contents, before `uri`/`mimeType` defaults are filled in. */
export type ResourceContent =
  | (Omit<TextResourceContents, 'uri'> & { uri?: string })
  | (Omit<BlobResourceContents, 'uri'> & { uri?: string })

/**
 * What a resource handler may return: a string (text), bytes (a blob), one content item, a list of them, or a
 * full `{ contents }` result.
 */
export type ResourceReturn = string | Uint8Array | ResourceContent | ResourceContent[] | { contents: ResourceContent[] }

interface ResourceMetadata {
  /** Programmatic name, shown in lists. */
  name: string
  title?: string
  description?: string
  /** Default MIME type of the contents. */
  mimeType?: string
  annotations?: Annotations
  /**
   * Scopes a caller's access token must grant (OAuth, or a verify function whose identity has `scopes`); without
   * them the request gets 403 `insufficient_scope` and the client can authorize again (docs/oauth.md). Static
   * tokens are not restricted.
   */
  scopes?: readonly string[]
}

/** A resource with a fixed URI. */
export interface StaticResourceDefinition extends ResourceMetadata {
  uri: string
  /** Size in bytes, when known ahead of reading. */
  size?: number
  handler: (uri: string, ctx: HandlerContext) => ResourceReturn | Promise<ResourceReturn>
}

/** A family of resources addressed by an RFC 6570 template such as `users://{id}/profile`. */
export interface ResourceTemplateDefinition<Template extends string = string> extends ResourceMetadata {
  uriTemplate: Template
  /** Suggestions for each template variable (`completion/complete`). */
  complete?: Partial<Record<TemplateVariables<Template>, Completer>>
  handler: (uri: string, variables: Record<TemplateVariables<Template>, string>, ctx: HandlerContext) => ResourceReturn | Promise<ResourceReturn>
}

export type AnyResource = StaticResourceDefinition | ResourceTemplateDefinition<any>

/** Identity helper that types a resource's handler, including a template's variables. */
export function defineResource (resource: StaticResourceDefinition): StaticResourceDefinition
export function defineResource<const Template extends string> (resource: ResourceTemplateDefinition<Template>): ResourceTemplateDefinition<Template>
export function defineResource (resource: AnyResource): AnyResource {
  return resource
}

export function isTemplate (resource: AnyResource): resource is ResourceTemplateDefinition<any> {
  return 'uriTemplate' in resource
}
