// A polite live region (role=status) for a page that changes by itself. Streamlit calls this
// on every run with {text, busy, every_ms}. A screen reader reads a live region each time its
// text changes; a training run changes it twice a second, far faster than speech. So while
// busy the text changes at most once every `every_ms` (each run keeps the latest, and the
// next run after the pause goes out); when not busy it changes at once: Pause is heard with
// the full state. The region stays mounted across runs, as a live region must to be heard.
//
// window.bnlabAnnounced keeps what was announced, for tests: [{at (ms), text}].

const MOST_KEPT = 200;

export default function (component) {
  const { parentElement, data } = component;
  let region = parentElement.querySelector(":scope > .bnlab-live-status");
  if (!region) {
    region = document.createElement("div");
    region.className = "bnlab-live-status bnlab-sr-only";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    region.setAttribute("aria-atomic", "true");
    parentElement.appendChild(region);
    region.bnlabLastAt = -Infinity;
  }
  const now = performance.now();
  if (data.text === region.textContent) return;
  if (data.busy && now - region.bnlabLastAt < data.every_ms) return;
  region.textContent = data.text;
  region.bnlabLastAt = now;
  const said = (window.bnlabAnnounced = window.bnlabAnnounced || []);
  said.push({ at: now, text: data.text });
  if (said.length > MOST_KEPT) said.shift();
}
