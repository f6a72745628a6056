/** Why a marked route cannot be a tool (a schema the bridge cannot express, a streaming reply...); the caller names the route. */
export class SchemaProblem extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'SchemaProblem'
  }
}
