// Scroll boxes a keyboard can reach. A formula or code block wider than its column scrolls
// sideways; WCAG 2.1 (2.1.1, keyboard) asks that a keyboard user can scroll it too, which a
// box can do only once it takes focus. Streamlit draws these boxes without a tabindex, so
// every box that really scrolls gets tabindex=0, role=region and a name, and loses them when
// it no longer scrolls (a wider window). Watches the page, since Streamlit redraws it.

const BOXES = [[".katex-display", "Formula"], ["pre", "Code"]];
const MARK = "bnlabScrollBox";
let scheduled = false;

// A box's content can grow without a change to the page's elements (its fonts load), so each
// box and its content are watched for size changes too.
const resized = new ResizeObserver(() => schedule());
const watched = new WeakSet();

function scrolls(el) {
  return el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight;
}

function watch(el) {
  if (watched.has(el)) return;
  watched.add(el);
  resized.observe(el);
  if (el.firstElementChild) resized.observe(el.firstElementChild);
}

function mark() {
  scheduled = false;
  for (const [selector, name] of BOXES) {
    for (const el of document.querySelectorAll(selector)) {
      watch(el);
      if (scrolls(el) && !el.hasAttribute("tabindex")) {
        el.tabIndex = 0;
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", `${name}, scrolls sideways`);
        el.dataset[MARK] = "1";
      } else if (!scrolls(el) && el.dataset[MARK]) {
        el.removeAttribute("tabindex");
        el.removeAttribute("role");
        el.removeAttribute("aria-label");
        delete el.dataset[MARK];
      }
    }
  }
}

function schedule() {
  if (!scheduled) {
    scheduled = true;
    requestAnimationFrame(mark);
  }
}

export default function () {
  if (!window.__bnlabScrollBoxes) {
    window.__bnlabScrollBoxes = true;
    new MutationObserver(schedule).observe(document.body, { subtree: true, childList: true });
    window.addEventListener("resize", schedule);
  }
  schedule();
}
