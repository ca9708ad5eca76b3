// npm run vapid:keys [-- --subject mailto:ops@hospital.org]
// Prints a fresh VAPID key pair as the three WEB_PUSH_* environment lines (server/config.ts): the
// application server's identity towards every browser's push service. Generate it once per deployment
// and keep it: browsers bind each subscription to the public key, so a new pair makes every device's
// subscription useless until its owner allows notifications again. The private key is a secret (put it
// where the other secrets go, never in the repository); the output goes to stdout only.
import { parseArgs } from 'node:util';
import { generateVapidKeys } from '../server/notifications/providers/webpush.js';

const { values } = parseArgs({ options: { subject: { type: 'string', default: 'mailto:it-ops@hospital.example' } } });
if (!/^(mailto:|https:\/\/)/.test(values.subject)) {
  console.error('--subject must be a mailto: address or an https:// URL (push services use it to reach the operator)');
  process.exit(2);
}
const { publicKey, privateKey } = generateVapidKeys();
console.log(`WEB_PUSH_VAPID_PUBLIC_KEY=${publicKey}`);
console.log(`WEB_PUSH_VAPID_PRIVATE_KEY=${privateKey}`);
console.log(`WEB_PUSH_SUBJECT=${values.subject}`);
