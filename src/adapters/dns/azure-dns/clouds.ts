/**
 * The Azure clouds certkeeper knows: each ARM endpoint with its Entra ID authority host. A token for
 * a sovereign cloud's ARM comes only from that cloud's authority, so the `endpoint` option decides
 * both. Light on purpose: the descriptor checks configs with it before any SDK loads.
 */
export const AZURE_CLOUDS: readonly { name: string; arm: string; authorityHost: string }[] = [
  { name: 'AzureCloud', arm: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com' },
  {
    name: 'AzureChinaCloud',
    arm: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn',
  },
  {
    name: 'AzureUSGovernment',
    arm: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
  },
];

export const DEFAULT_ARM_ENDPOINT = 'https://management.azure.com';

const origin = (url: string) => new URL(url).origin;

/** The authority host for an ARM endpoint: AZURE_AUTHORITY_HOST when set, else the known cloud's; undefined when unknown. */
export function authorityHostFor(endpoint: string | undefined, env: Readonly<Record<string, string | undefined>>) {
  if (env.AZURE_AUTHORITY_HOST) return env.AZURE_AUTHORITY_HOST.replace(/\/+$/, '');
  const arm = origin(endpoint ?? DEFAULT_ARM_ENDPOINT);
  return AZURE_CLOUDS.find((c) => c.arm === arm)?.authorityHost;
}

/** True for the Microsoft authority hosts MSAL knows; for others (Azure Stack, ADFS) instance discovery would fail. */
export function isKnownAuthorityHost(authorityHost: string): boolean {
  return AZURE_CLOUDS.some((c) => origin(c.authorityHost) === origin(authorityHost));
}
