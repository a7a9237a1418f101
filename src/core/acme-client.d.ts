// Types for the acme-client modules imported by path (see acme.ts), from its own index.d.ts.
declare module 'acme-client/src/client.js' {
  import type { Client } from 'acme-client';

  const ClientClass: typeof Client;
  type ClientClass = Client;
  export default ClientClass;
}
declare module 'acme-client/src/axios.js' {
  import type { axios } from 'acme-client';

  const instance: typeof axios;
  export default instance;
}
declare module 'acme-client/src/crypto/index.js' {
  import type { crypto } from 'acme-client';
  export const createCsr: typeof crypto.createCsr;
}
