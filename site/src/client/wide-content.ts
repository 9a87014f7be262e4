/**
 * Tables wider than the column scroll inside themselves, never the page: each sits in a
 * box that scrolls sideways, shows a fading edge and a note while there is more to see,
 * and becomes a Tab stop (arrow keys scroll it) only while it actually overflows.
 */
export function enhanceTables(root: ParentNode): void {
  for (const table of root.querySelectorAll<HTMLTableElement>('table')) {
    if (table.parentElement?.classList.contains('table-scroll')) continue;
    const box = document.createElement('div');
    box.className = 'table-scroll';
    table.replaceWith(box);
    box.append(table);
    const caption = table.caption?.textContent?.trim() || table.querySelector('th')?.textContent?.trim();
    watchOverflow(box, `Table${caption ? ` (${caption}…)` : ''}, scrolls sideways`);
  }
}

/** Diagrams and other boxes that scroll sideways inside the lesson get the same treatment as tables. */
export function enhanceScrollBoxes(root: ParentNode): void {
  for (const box of root.querySelectorAll<HTMLElement>('figure, div')) {
    if (box.classList.contains('table-scroll') || box.closest('.code-block') || box.dataset.scrollWatched) continue;
    const overflowX = getComputedStyle(box).overflowX;
    if (overflowX !== 'auto' && overflowX !== 'scroll') continue;
    box.dataset.scrollWatched = 'true';
    const name = box.querySelector('[aria-label]')?.getAttribute('aria-label') ?? box.querySelector('figcaption')?.textContent?.trim();
    watchOverflow(box, `${name ? name.slice(0, 80) : 'Diagram'}, scrolls sideways`);
  }
}

/** Marks a scroll box that overflows: a class for the visible cue, a Tab stop and a name for the keyboard. */
export function watchOverflow(box: HTMLElement, label: string): void {
  const update = () => {
    const overflows = box.scrollWidth > box.clientWidth + 1;
    box.classList.toggle('is-overflowing', overflows);
    box.classList.toggle('is-at-end', box.scrollLeft + box.clientWidth >= box.scrollWidth - 1);
    if (overflows) {
      box.tabIndex = 0;
      box.setAttribute('role', 'region');
      box.setAttribute('aria-label', label);
    } else {
      box.removeAttribute('tabindex');
      box.removeAttribute('role');
      box.removeAttribute('aria-label');
    }
  };
  new ResizeObserver(update).observe(box);
  box.addEventListener('scroll', update, { passive: true });
  update();
}
