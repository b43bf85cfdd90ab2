/** The server names the checkers report under (defined once, in the config layer). */
export { realServerKey, virtualServerKey } from '../config/keys.ts';
