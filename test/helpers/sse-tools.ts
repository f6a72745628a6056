import { fixtureTools } from './fixture-tools.js'

/** The fixture tools as a `--tools` module, so a spawned `node server` serves what the plugin tests call. */
export default fixtureTools
