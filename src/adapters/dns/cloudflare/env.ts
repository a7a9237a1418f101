/** The variables the official SDK reads; the Action's `dns-provider: cloudflare` shortcut sets the token one. */
export const TOKEN_ENV = 'CLOUDFLARE_API_TOKEN';
export const BASE_URL_ENV = 'CLOUDFLARE_BASE_URL';
