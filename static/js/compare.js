// The before/after slider: the sketch is clipped to the right of a divider that a range
// input moves (so it works by mouse, touch and keyboard alike).

export function setupCompare(container, range) {
  const set = (value) => {
    const pct = Math.max(0, Math.min(100, Number(value)));
    container.style.setProperty("--pos", `${pct}%`);
    range.value = String(pct);
    range.setAttribute("aria-valuetext", `${Math.round(100 - pct)}% sketch, ${Math.round(pct)}% photo`);
  };
  range.addEventListener("input", () => set(range.value));
  set(range.value || 50);
  return { set };
}
