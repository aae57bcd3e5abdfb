import { logReference } from '../src/flows/log-reference.js';

/**
 * `npm run flow-ref -- <flow id> [...]`: the reference logs use for each flow id (the `flow`
 * field), so a support engineer holding a user's flow id can search the logs for it. Logs never
 * hold the id itself.
 */
const ids = process.argv.slice(2);
if (ids.length === 0) {
  console.error('usage: npm run flow-ref -- <flow id> [more flow ids]');
  process.exit(2);
}
let bad = false;
for (const id of ids) {
  if (!/^[A-Za-z0-9_-]{24}$/.test(id)) {
    console.error(`${id}: not a flow id (24 characters of A-Z, a-z, 0-9, - and _)`);
    bad = true;
    continue;
  }
  console.log(ids.length === 1 ? logReference(id) : `${id} ${logReference(id)}`);
}
process.exit(bad ? 1 : 0);
