/**
 * The console's Content-Security-Policy, sent as a header by the headless server (for the
 * web console) and by the Electron window. renderer/index.html repeats it in a meta tag
 * (without frame-ancestors, which meta tags cannot carry) for files opened directly.
 * `media-src blob:` lets the console play evidence audio it fetched with the API key.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
