import type { Deserialize, DeserializedData, Serialize } from 'keyv';
import { defaultSerialize } from '@keyv/serialize';
import { BoundedMemo, deepFreeze } from '../lib/bounded-memo.js';

/**
 * keyv's defaultDeserialize (@keyv/serialize), without its reviver when there is nothing to revive.
 * Writes are keyv's defaultSerialize's text (serialize below), which escapes a string value starting with ':' as '::…' and
 * writes a Buffer as ':base64:…'; the reviver undoes both, and touches nothing else. A JSON string
 * that starts with ':' opens right after '{', '[', ',' or ':' (the serializer writes no spaces;
 * a '"' inside a string is always '\\"'), or at the very start of the text: where none of these
 * appears, a plain JSON.parse reads exactly what the reviver would (most reads: flows, claims).
 * Same format both ways, so values stay readable and writable by instances either side of this.
 */
const COLON_STRING = /[[{,:]":/;

const parse = (text: string): unknown =>
  deepFreeze(text.startsWith('":') || COLON_STRING.test(text) ? JSON.parse(text, revive) : JSON.parse(text));

/**
 * keyv's defaultSerialize builds its text in JavaScript, key by key, to escape a string value that
 * starts with ':' and to write a Buffer as ':base64:…'; for anything else its text is exactly
 * JSON.stringify's (own enumerable keys, undefined members left out, toJSON applied). So the text
 * is JSON.stringify's when it shows neither: no string opens with ':' (the test above, which can
 * only err towards keyv's serializer) and no Buffer's JSON form. The store holds JSON data only
 * (records, claims, counts and ids: no functions, no sparse arrays), where the two agree.
 */
export const serialize: Serialize = <Value>(data: DeserializedData<Value>) => {
  const text = JSON.stringify(data);
  return text === undefined || text.startsWith('":') || COLON_STRING.test(text) || text.includes('"type":"Buffer"')
    ? defaultSerialize(data)
    : text;
};

/**
 * A polled flow is read again and again while unchanged, and one stored text always reads as the
 * same value: the last 512 texts keep their parsed value, frozen since it is handed out more than
 * once (nothing changes a stored record in place: the domain makes new flows). The memory store
 * hands back the very string it holds, so a hit is one Map lookup instead of parsing a flow record;
 * Redis hands back an equal string, and hashing it is still cheaper than parsing it.
 */
const parsed = new BoundedMemo(parse, 512);

export const deserialize: Deserialize = <Value>(text: string) => parsed.get(text) as DeserializedData<Value>;

function revive(_key: string, value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.startsWith(':base64:')) return Buffer.from(value.slice(8), 'base64');
    return value.startsWith(':') ? value.slice(1) : value;
  }
  return value;
}
