/**
 * On a narrow screen the lesson and the terminal are two tabs, the terminal one tap away.
 * The lesson keeps its place: its scroll position is put back when its tab is shown again.
 * Wide screens show both side by side and hide the tabs. Other code asks for a pane with
 * the `layerlab:show-pane` event (the Run buttons, the skip links).
 */
const narrowQuery = matchMedia('(max-width: 900px)');
export type Pane = 'lesson' | 'terminal';

export function setUpPaneTabs(split: HTMLElement, tablist: HTMLElement): void {
  const tabs = [...tablist.querySelectorAll<HTMLButtonElement>('[data-pane-tab]')];
  const panes = { lesson: split.querySelector<HTMLElement>('#lesson-pane')!, terminal: split.querySelector<HTMLElement>('#terminal-pane')! };
  let lessonScrollY = 0;

  const show = (pane: Pane, { focusTab = false } = {}) => {
    if (split.dataset.view !== pane && narrowQuery.matches) {
      if (pane === 'terminal') lessonScrollY = window.scrollY;
      split.dataset.view = pane;
      window.scrollTo(0, pane === 'lesson' ? lessonScrollY : 0);
    } else {
      split.dataset.view = pane;
    }
    if (pane === 'terminal') requestAnimationFrame(() => document.dispatchEvent(new CustomEvent('layerlab:terminal-shown')));
    for (const tab of tabs) {
      const isSelected = tab.dataset.paneTab === pane;
      tab.setAttribute('aria-selected', String(isSelected));
      tab.tabIndex = isSelected ? 0 : -1;
      if (isSelected && focusTab) tab.focus();
    }
  };

  // Tab panels only while they are tabs; side by side they are a page's article and a region.
  const syncRoles = () => {
    for (const [pane, element] of Object.entries(panes)) {
      if (narrowQuery.matches) {
        element.setAttribute('role', 'tabpanel');
        element.setAttribute('aria-labelledby', `tab-${pane}`);
      } else {
        element.setAttribute('role', pane === 'terminal' ? 'region' : 'article');
        element.removeAttribute('aria-labelledby');
      }
    }
  };
  syncRoles();
  narrowQuery.addEventListener('change', syncRoles);

  for (const tab of tabs) tab.addEventListener('click', () => show(tab.dataset.paneTab as Pane));
  tablist.addEventListener('keydown', (event) => {
    const index = tabs.findIndex((tab) => tab === document.activeElement);
    const next = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (index === -1 || next === undefined) return;
    event.preventDefault();
    show(tabs[(next + tabs.length) % tabs.length]!.dataset.paneTab as Pane, { focusTab: true });
  });
  document.addEventListener('layerlab:show-pane', (event) => show((event as CustomEvent<Pane>).detail));
  // A Run button types into the terminal: show it.
  document.addEventListener('layerlab:run-command', () => show('terminal'));

  // Skip links: the terminal (its input when there is one) and the Check button.
  for (const link of document.querySelectorAll<HTMLAnchorElement>('[data-skip-to]')) {
    link.addEventListener('click', (event) => {
      event.preventDefault();
      if (link.dataset.skipTo === 'terminal') {
        show('terminal');
        document.dispatchEvent(new CustomEvent('layerlab:focus-terminal'));
      } else {
        show('lesson');
        const button = document.querySelector<HTMLElement>('[data-check-button]');
        button?.scrollIntoView({ block: 'center' });
        button?.focus();
      }
    });
  }
}
