/**
 * The lesson page's split between text and terminal: drag the handle, or focus it and use
 * the arrow keys (Home/End for the extremes). The share is remembered across pages.
 */
const storageKey = 'layerlab.split';
const minPercent = 28;
const maxPercent = 72;

export function setUpSplitView(container: HTMLElement, handle: HTMLElement): void {
  const apply = (percent: number) => {
    const clamped = Math.min(maxPercent, Math.max(minPercent, percent));
    container.style.setProperty('--split', `${clamped}%`);
    handle.setAttribute('aria-valuenow', String(Math.round(clamped)));
    return clamped;
  };
  let current = apply(Number(localStorage.getItem(storageKey)) || 50);
  const save = () => localStorage.setItem(storageKey, String(Math.round(current)));

  handle.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    container.classList.add('is-resizing');
    const box = container.getBoundingClientRect();
    const move = (moveEvent: PointerEvent) => {
      current = apply(((moveEvent.clientX - box.left) / box.width) * 100);
    };
    const stop = () => {
      container.classList.remove('is-resizing');
      handle.removeEventListener('pointermove', move);
      save();
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', stop, { once: true });
    handle.addEventListener('pointercancel', stop, { once: true });
  });
  handle.addEventListener('keydown', (event) => {
    const steps: Record<string, number> = { ArrowLeft: -4, ArrowRight: 4, Home: -100, End: 100 };
    const step = steps[event.key];
    if (step === undefined) return;
    event.preventDefault();
    current = apply(current + step);
    save();
  });
  handle.addEventListener('dblclick', () => {
    current = apply(50);
    save();
  });
}
