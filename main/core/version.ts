/** The app version, kept in step with package.json by test/core/config.test.ts. */
export const VERSION = '0.1.0';
