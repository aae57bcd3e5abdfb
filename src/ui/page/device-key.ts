import { $, setText } from './dom.js';

/** The Prove Key this browser's stand-in device holds (localStorage), as the real SDK keeps one on the phone. */

const KEY_STORAGE = 'unify-gateway.device-key';

export function deviceKey(): string | undefined {
  return localStorage.getItem(KEY_STORAGE) ?? undefined;
}
export function setDeviceKey(key: string | undefined) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
  setText('device-key', key ?? 'none yet');
  $<HTMLButtonElement>('forget-key').disabled = !key;
  $<HTMLButtonElement>('use-key').disabled = !key;
}
