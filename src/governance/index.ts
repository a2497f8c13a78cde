export { openAccess, presentedKey, type Authenticator, type Identity } from './identity.js';
