/** This package's version (checked against package.json by a test). */
export const PACKAGE_NAME = 'fastify-mcp-host'
export const PACKAGE_VERSION = '0.1.0'
