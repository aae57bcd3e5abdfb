/** The page's DOM helpers: lookups, the Events log, results next to buttons, step numbers. */

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export function log(text: string, kind: 'info' | 'error' = 'info') {
  const item = document.createElement('li');
  item.className = kind;
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  item.append(time, ` ${text}`);
  $('log').prepend(item);
}

/** What an action answered, next to the button that caused it (errors also go to the Events log). */
export function showResult(id: string, text: string, kind: 'info' | 'error' = 'info') {
  const element = $(id);
  element.textContent = text;
  element.classList.toggle('error', kind === 'error');
}

/** Numbers the visible steps 1, 2, 3 … so a hidden one (no device step, no bind) leaves no gap. */
export function renumber() {
  let step = 0;
  for (const section of document.querySelectorAll<HTMLElement>('section[data-step]')) {
    if (!section.hidden) section.querySelector('.step')!.textContent = String(++step);
  }
}

export function setConnection(text: string) {
  $('connection').textContent = text;
}

export function setText(id: string, text: string) {
  $(id).textContent = text;
}

/** Runs a button's action; what goes wrong is shown next to it (`resultId`) and in the Events log. */
export function busy<A extends unknown[]>(button: HTMLButtonElement, resultId: string, action: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      await action(...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      showResult(resultId, message, 'error');
      log(message, 'error');
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  };
}
